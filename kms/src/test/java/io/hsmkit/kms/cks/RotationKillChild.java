package io.hsmkit.kms.cks;

import io.hsmkit.kms.store.Database;
import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.constants.CKU;
import io.hsmkit.provider.HsmKitProvider;
import java.time.Clock;
import java.util.Map;

/**
 * The child JVMs of {@link CustomKeyStoresKillTest}. Every use of a cluster token happens in a
 * fresh process, as after a real restart (SoftHSM2 reads a token's PIN when the library is
 * initialised: a process does not see another process's C_SetPIN).
 *
 * <p>Arguments: mode, JDBC URL, database user, PKCS#11 library, cluster token label, store id, and
 * for mode {@code kill} the point ({@code pendingWritten} or {@code pinChanged}), for mode
 * {@code login} the PIN. Modes: {@code prepare} (connect, make the key labelled with the store
 * id, disconnect), {@code kill} (connect, stop at the point: print {@code AT <point>} and wait to
 * be killed), {@code recover} (disconnect, connect, look for the key, disconnect), {@code login}
 * (a direct C_Login; prints {@code LOGIN <ckr>}). The default token's user PIN comes from
 * HSMKIT_USER_PIN, SOFTHSM2_CONF from the environment.
 */
public final class RotationKillChild {
  private RotationKillChild() {}

  public static void main(String[] a) throws Exception {
    String mode = a[0];
    String url = a[1];
    String library = a[3];
    String label = a[4];
    String id = a[5];
    if (mode.equals("login")) {
      try (Pkcs11Module m = Pkcs11Module.open(library); Session s = m.slotByTokenLabel(label).orElseThrow().openSession(true)) {
        long ckr = 0;
        try {
          s.raw().C_Login(s.handle(), CKU.USER, a[6].toCharArray());
          s.logout();
        } catch (Pkcs11Exception e) {
          ckr = e.ckr();
        }
        System.out.println("LOGIN " + ckr);
      }
      System.exit(0);
    }
    Database db = Database.open(url, a[2], url.startsWith("jdbc:h2:") ? "" : null);
    HsmKitProvider def = new HsmKitProvider(CksFixture.config(library, "default"));
    def.login(System.getenv("HSMKIT_USER_PIN").toCharArray());
    PinSealer sealer = PinSealer.onBacking(StoreKeyBacking.on(null, def));
    CustomKeyStores s = new CustomKeyStores(db, Map.of(CksFixture.clusterId(label), CksFixture.config(library, label)), Clock.systemUTC(),
        x -> 0, sealer);
    String key = "arn:aws:kms:eu-west-1:111122223333:key/" + id;
    switch (mode) {
      case "prepare" -> {
        s.connect(new ConnectCustomKeyStoreRequest(id));
        s.backing(id).createAes256(key);
        s.disconnect(new DisconnectCustomKeyStoreRequest(id));
        System.out.println("PREPARED");
      }
      case "kill" -> {
        String point = a[6];
        s.probe = new CustomKeyStores.RotationProbe() {
          @Override
          public void pendingWritten(String storeId) {
            stopIf("pendingWritten");
          }

          @Override
          public void pinChanged(String storeId) {
            stopIf("pinChanged");
          }

          private void stopIf(String here) {
            System.out.println("REACHED " + here);
            if (here.equals(point)) {
              System.out.println("AT " + here);
              System.out.flush();
              try {
                Thread.sleep(600_000); // the parent kills us here
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              System.exit(3);
            }
          }
        };
        s.connect(new ConnectCustomKeyStoreRequest(id));
        System.out.println("DONE " + s.state(id).orElseThrow());
      }
      case "recover" -> {
        System.out.println("FOUND-STATE " + s.state(id).orElseThrow());
        s.disconnect(new DisconnectCustomKeyStoreRequest(id));
        s.connect(new ConnectCustomKeyStoreRequest(id));
        System.out.println("STATE " + s.state(id).orElseThrow());
        System.out.println(s.backing(id).find(key) != null ? "KEY FOUND" : "KEY MISSING");
        s.disconnect(new DisconnectCustomKeyStoreRequest(id));
      }
      default -> throw new IllegalArgumentException(mode);
    }
    System.out.flush();
    System.exit(0);
  }
}
