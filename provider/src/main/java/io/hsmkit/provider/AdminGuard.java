package io.hsmkit.provider;

import java.util.Map;

/**
 * A check the HsmKit KeyStore runs before an administrative change of the token, so that an
 * application (the {@code hsmkit} command, the KMS) can require a quorum of officers or any other
 * approval without the provider knowing how approvals work. Set it with
 * {@link HsmKitProvider#setAdminGuard(AdminGuard)}; the default allows everything.
 *
 * <p>Contract:
 * <ul>
 *   <li>{@link #check} is called before {@code KeyStore.deleteEntry} of an entry that exists
 *       (operation {@value #DELETE_KEY}, argument {@code alias}), and before {@code setKeyEntry}
 *       imports a software private or secret key into the token (operation {@value #IMPORT_KEY},
 *       arguments {@code alias}, {@code type} {@code private} or {@code secret}, {@code algorithm}, and
 *       for a private key {@code public-key-sha256}, the lower-case hex SHA-256 of the X.509 encoding of
 *       the chain's first certificate's public key). Keys that are already in the token (generated
 *       there) are stored without a check: they are not imports.</li>
 *   <li>It is called once per operation, before any token object is touched, and never for a no-op
 *       (deleting an absent alias): a guard may consume a single-use approval.</li>
 *   <li>Returning normally lets the operation run. Throwing a {@link SecurityException} refuses it: the
 *       KeyStore changes nothing and throws a {@link java.security.KeyStoreException} whose message is
 *       the refusal's message and whose cause is the refusal.</li>
 *   <li>Arguments never hold secrets (no PIN, no key bytes): only names and digests of public data.</li>
 * </ul>
 */
@FunctionalInterface
public interface AdminGuard {
  /** Deleting a KeyStore entry: its key, public key and certificates. */
  String DELETE_KEY = "delete-key";
  /** Importing a software private or secret key into the token. */
  String IMPORT_KEY = "import-key";

  /** Allows every operation: the default. */
  AdminGuard ALLOW_ALL = (operation, arguments) -> { };

  /**
   * Checks one operation before it runs.
   *
   * @param operation {@link #DELETE_KEY} or {@link #IMPORT_KEY}
   * @param arguments the operation's arguments, unmodifiable
   * @throws SecurityException to refuse the operation
   */
  void check(String operation, Map<String, String> arguments);
}
