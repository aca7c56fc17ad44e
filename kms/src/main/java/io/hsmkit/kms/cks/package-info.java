/**
 * Custom key stores: AWS KMS's AWS_CLOUDHSM key stores, where the "cluster" is a PKCS#11 token
 * reached through an HsmKit provider configuration.
 *
 * <p>How to plug it in (the KMS service does authorisation and the audit trail):
 * <pre>{@code
 * KeyBacking defaultStore = ...;                       // the embedded token's backing (core)
 * CustomKeyStores stores = new CustomKeyStores(db, clusters, clock,
 *     storeId -> countKeysIn(storeId),                 // Delete refuses a store with keys
 *     PinSealer.onBacking(defaultStore));              // seals kmsuser PINs under the default token
 * KeyBackings backings = new CustomKeyStoreBackings(defaultStore, stores);
 * }</pre>
 * {@link io.hsmkit.kms.cks.CustomKeyStores} has one method per operation ({@code create},
 * {@code describe}, {@code update}, {@code delete}, {@code connect}, {@code disconnect}) taking and
 * returning the records of this package, whose component names are AWS's JSON members.
 *
 * <p>Choices, and where they differ from AWS:
 * <ul>
 *   <li>Connect is synchronous: it returns once the store is CONNECTED or FAILED.
 *   <li>The kmsuser PIN rotates on every connect (AWS rotates the kmsuser password on connect
 *       too); the new PIN is 32 random characters. Pending-then-current writes make a kill at any
 *       point recoverable (tested with kill -9 of a child JVM before and after C_SetPIN).
 *   <li>PINs are sealed with AES-256-GCM under a non-extractable key of the default store's token
 *       ({@link io.hsmkit.kms.cks.PinSealer}), bound to the store id. Whoever has the database
 *       alone has no PIN; whoever also has the default token and its PIN has them all.
 *   <li>USER_LOCKED_OUT comes from CKR_PIN_LOCKED or from {@value
 *       io.hsmkit.kms.cks.CustomKeyStores#MAX_FAILED_CONNECTS} failed connects in a row (SoftHSM2
 *       2.6.1 answered every wrong PIN with CKR_PIN_INCORRECT here, never CKR_PIN_LOCKED).
 *   <li>The trust anchor must parse as a PEM X.509 certificate; it is not compared with the token,
 *       which has no cluster certificate. A cluster belongs to at most one store
 *       (CloudHsmClusterInUseException); UpdateCustomKeyStore takes any other configured cluster
 *       (AWS demands one with the same backup history).
 *   <li>SoftHSM2 reads a token's user PIN when the library is initialised: a process does not
 *       see another process's C_SetPIN until it initialises the library again. Several service
 *       nodes on one SoftHSM2 token directory therefore cannot follow each other's rotations (each
 *       node then fails with KMSInvalidStateException "cannot log in"); on an HSM, and for nodes
 *       that restart, this does not arise.
 * </ul>
 */
package io.hsmkit.kms.cks;
