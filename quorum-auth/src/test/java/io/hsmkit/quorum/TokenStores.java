package io.hsmkit.quorum;

import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.session.Pin;
import io.hsmkit.pkcs11.session.PoolConfig;
import io.hsmkit.pkcs11.session.SessionPool;
import io.hsmkit.pkcs11.session.TokenSelector;
import io.hsmkit.quorum.store.TokenQuorumStore;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/** A module, pool and TokenQuorumStore opened together and closed together; plus key files for the child JVM. */
final class TokenStores implements AutoCloseable {
    final Pkcs11Module module;
    final SessionPool pool;
    final TokenQuorumStore store;

    TokenStores(String library, String label, char[] pin) {
        module = Pkcs11Module.open(library);
        SessionPool p;
        try {
            p = SessionPool.open(module, TokenSelector.label(label), PoolConfig.defaults().withMaxSessions(4), Pin.of(pin.clone()));
        } catch (RuntimeException e) {
            module.close();
            throw e;
        }
        pool = p;
        store = new TokenQuorumStore(pool);
    }

    /** Every object of the store on the token, removed (between tests on one token). */
    void wipe() {
        pool.execute(s -> {
            for (long h : s.findObjects(Attribute.ulong(CKA.CLASS, CKO.DATA),
                    Attribute.string(CKA.APPLICATION, TokenQuorumStore.APPLICATION))) {
                s.destroyObject(h);
            }
            return null;
        });
    }

    /** Labels of the store's objects and whether each is a private token object. */
    List<String> labels() {
        return pool.execute(s -> {
            List<String> out = new ArrayList<>();
            for (long h : s.findObjects(Attribute.ulong(CKA.CLASS, CKO.DATA),
                    Attribute.string(CKA.APPLICATION, TokenQuorumStore.APPLICATION))) {
                Attribute[] a = s.getAttributes(h, CKA.LABEL, CKA.TOKEN, CKA.PRIVATE);
                out.add(a[0].asString() + (a[1].asBool() && a[2].asBool() ? "" : " (not a private token object)"));
            }
            return out;
        });
    }

    @Override
    public void close() {
        try {
            pool.close();
        } finally {
            module.close();
        }
    }

    // ---- officer keys shared with the child JVM: "id<TAB>pkcs8<TAB>x509" (EC), base64

    static String encodeKeys(Map<String, KeyPair> keys) {
        StringBuilder sb = new StringBuilder();
        keys.forEach((id, kp) -> sb.append(id).append('\t')
                .append(Base64.getEncoder().encodeToString(kp.getPrivate().getEncoded())).append('\t')
                .append(Base64.getEncoder().encodeToString(kp.getPublic().getEncoded())).append('\n'));
        return sb.toString();
    }

    static void decodeKeys(String text, Fixture into) throws Exception {
        KeyFactory kf = KeyFactory.getInstance("EC");
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.split("\t");
            KeyPair kp = new KeyPair(kf.generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(f[2]))),
                    kf.generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(f[1]))));
            into.keys.put(f[0], kp);
            into.schemes.put(f[0], SignatureScheme.SHA256_WITH_ECDSA);
        }
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
