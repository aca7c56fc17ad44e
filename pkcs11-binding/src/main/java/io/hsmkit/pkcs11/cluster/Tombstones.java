package io.hsmkit.pkcs11.cluster;

import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.raw.Attribute;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tombstones kept in the tokens themselves, so that a deletion outlives the process that made it:
 * one CKO_DATA token object per deleted key on every member that was reachable, private to the
 * user (written by the cluster's user sessions), CKA_APPLICATION {@value #APPLICATION}, CKA_LABEL
 * {@code hsmkit-tombstone-<CKA_ID hex>} (to find one by key without reading every value), and
 * CKA_VALUE {@code hsmkit-cluster-tombstone/1 id=<hex> deleted=<epoch ms>}. Data objects have no
 * CKA_ID, so destroying "every object with the key's CKA_ID" never destroys the tombstone itself.
 * Standard PKCS#11 only: any member's library can hold them.
 */
final class Tombstones {
  static final String APPLICATION = "hsmkit-cluster-tombstone";
  static final String LABEL_PREFIX = "hsmkit-tombstone-";
  private static final Pattern VALUE = Pattern.compile("hsmkit-cluster-tombstone/1 id=([0-9a-f]{2,128}) deleted=([0-9]{1,19})");

  private Tombstones() {}

  /** A deleted key's CKA_ID (hex) and when it was deleted. */
  record Stone(String idHex, long deletedAtMillis) {}

  private static Attribute[] find(String idHex) {
    Attribute[] base = {Attribute.ulong(CKA.CLASS, CKO.DATA), Attribute.string(CKA.APPLICATION, APPLICATION),
        Attribute.string(CKA.LABEL, LABEL_PREFIX + idHex)};
    return base;
  }

  /** Writes the tombstone unless the token already has one for this key. */
  static void write(Session s, Stone stone) {
    if (s.findObjects(1, find(stone.idHex())).length > 0) {
      return;
    }
    String value = "hsmkit-cluster-tombstone/1 id=" + stone.idHex() + " deleted=" + stone.deletedAtMillis();
    s.createObject(Attribute.ulong(CKA.CLASS, CKO.DATA), Attribute.bool(CKA.TOKEN, true), Attribute.bool(CKA.PRIVATE, true),
        Attribute.string(CKA.APPLICATION, APPLICATION), Attribute.string(CKA.LABEL, LABEL_PREFIX + stone.idHex()),
        Attribute.bytes(CKA.VALUE, value.getBytes(StandardCharsets.US_ASCII)));
  }

  /**
   * Every tombstone on the token, by CKA_ID hex. A value that does not parse is skipped (and
   * logged by the caller's count): a malformed object must never make the cluster destroy keys.
   */
  static Map<String, Stone> read(Session s) {
    Map<String, Stone> out = new LinkedHashMap<>();
    for (long h : s.findObjects(Attribute.ulong(CKA.CLASS, CKO.DATA), Attribute.string(CKA.APPLICATION, APPLICATION))) {
      Stone st = parse(s.getAttribute(h, CKA.VALUE).value());
      if (st != null) {
        out.merge(st.idHex(), st, (x, y) -> x.deletedAtMillis() <= y.deletedAtMillis() ? x : y);
      }
    }
    return out;
  }

  static Stone parse(byte[] value) {
    if (value == null) {
      return null;
    }
    Matcher m = VALUE.matcher(new String(value, StandardCharsets.US_ASCII));
    if (!m.matches() || m.group(1).length() % 2 != 0) {
      return null;
    }
    try {
      return new Stone(m.group(1), Long.parseLong(m.group(2)));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** Destroys the token's tombstones for this key; returns how many. */
  static int erase(Session s, String idHex) {
    long[] hs = s.findObjects(8, find(idHex));
    for (long h : hs) {
      s.destroyObject(h);
    }
    return hs.length;
  }

  /** CKA_IDs that a tombstone must never name: the cluster's own keys. */
  static boolean reserved(String idHex) {
    return idHex.equals(HexFormat.of().formatHex(ClusterAdmin.WRAP_KEY_ID)) || idHex.equals(HexFormat.of().formatHex(ClusterAdmin.IDENTITY_ID));
  }
}
