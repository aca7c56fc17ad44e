package io.hsmkit.kms.cks;

/**
 * Why a connection attempt ended FAILED, with AWS's names (DescribeCustomKeyStores
 * {@code ConnectionErrorCode}, the values that apply to an AWS CloudHSM key store). What each
 * means here, where a "cluster" is one PKCS#11 token reached through an HsmKit configuration:
 * <ul>
 *   <li>{@link #INVALID_CREDENTIALS}: neither the stored kmsuser PIN nor a pending rotated one
 *       logs in;
 *   <li>{@link #USER_LOCKED_OUT}: the token answered CKR_PIN_LOCKED, or
 *       {@link CustomKeyStores#MAX_FAILED_CONNECTS} connects in a row failed on the PIN (the
 *       adapter then stops trying until UpdateCustomKeyStore gives a new KeyStorePassword);
 *   <li>{@link #NETWORK_ERRORS}: the PKCS#11 library does not load or initialise, or no slot
 *       has a token present;
 *   <li>{@link #INSUFFICIENT_CLOUDHSM_HSMS}: tokens are present but none is the configured one;
 *   <li>{@link #CLUSTER_NOT_FOUND}: the cluster id is no longer configured;
 *   <li>{@link #INTERNAL_ERROR}: anything else (the PIN rotation failed, say).
 * </ul>
 */
public enum ConnectionErrorCode {
  INVALID_CREDENTIALS,
  CLUSTER_NOT_FOUND,
  NETWORK_ERRORS,
  INTERNAL_ERROR,
  INSUFFICIENT_CLOUDHSM_HSMS,
  USER_LOCKED_OUT,
  USER_NOT_FOUND,
  USER_LOGGED_IN,
  INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET,
  SUBNET_NOT_FOUND
}
