/**
 * The AWS KMS JSON 1.1 endpoint: {@link io.hsmkit.kms.http.KmsEndpoint} (embedded Tomcat, HTTPS
 * with a certificate whose key is in the HSM), {@link io.hsmkit.kms.http.SigV4Verifier},
 * {@link io.hsmkit.kms.http.KmsJson} (the wire's JSON), and the one seam the service plugs into,
 * {@link io.hsmkit.kms.http.KmsOperations}. {@link io.hsmkit.kms.http.EndpointCertificates}
 * makes the TLS certificates in the token and {@link io.hsmkit.kms.http.AwsEnvironment} prints
 * the SDKs' environment variables for a client.
 *
 * <p>Depends on the seams of {@code io.hsmkit.kms} ({@code Caller}, {@code KmsError},
 * {@code KmsException}, {@code access.CredentialLookup}), never on the service's implementation.
 */
package io.hsmkit.kms.http;
