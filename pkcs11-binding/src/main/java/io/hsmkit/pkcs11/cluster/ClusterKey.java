package io.hsmkit.pkcs11.cluster;

import io.hsmkit.pkcs11.constants.CKO;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A key that the cluster keeps on several members, with the same CKA_ID and label everywhere.
 * Immutable; {@link #id()} returns a copy.
 *
 * @param pair true for a key pair (private and public key share the CKA_ID), false for a secret key
 */
public record ClusterKey(String label, byte[] id, boolean pair) {
  public ClusterKey {
    id = id.clone();
  }

  @Override
  public byte[] id() {
    return id.clone();
  }

  /** The class that holds the secret: CKO_SECRET_KEY or CKO_PRIVATE_KEY. */
  public long secretClass() {
    return pair ? CKO.PRIVATE_KEY : CKO.SECRET_KEY;
  }

  public String idHex() {
    return HexFormat.of().formatHex(id);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ClusterKey k && k.pair == pair && k.label.equals(label) && Arrays.equals(k.id, id);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(id) * 31 + label.hashCode();
  }

  @Override
  public String toString() {
    return (pair ? "key pair " : "secret key ") + label + " (CKA_ID " + idHex() + ")";
  }
}
