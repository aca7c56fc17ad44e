/**
 * Access control of the KMS service: key policies and identity policies in IAM's grammar
 * ({@link io.hsmkit.kms.access.KeyPolicy}), their AWS evaluation together with grants and grant
 * tokens ({@link io.hsmkit.kms.access.PolicyAccessControl}), the rules around grants
 * ({@link io.hsmkit.kms.access.GrantRules}), the default key policy and the lockout check
 * ({@link io.hsmkit.kms.access.KeyPolicies}) and the principals with their wrapped secrets
 * ({@link io.hsmkit.kms.access.Principals}).
 *
 * <p>Wiring, for the service and the endpoint:
 * <pre>{@code
 * // grant tokens: the core's random token stored with the grant row, looked up in the database
 * PolicyAccessControl access = new PolicyAccessControl(ServerAccessControl.grantTokensIn(database));
 * Principals principals = new Principals(database, defaultStoreProvider, quorumOrNull);
 *
 * // every call: access.check(new AccessRequest(caller, "kms:Encrypt", keyArn, keyPolicy, grants, ec, grantTokens));
 * //   ReEncrypt: KmsActions.actionsOf("ReEncrypt") on the source and on the destination key
 * //   CreateKey / ListKeys ...: keyArn and keyPolicy null (KmsActions.NOT_ON_A_KEY)
 * //   CreateAlias ...: also access.checkIdentityOnly(caller, "kms:CreateAlias", aliasArn)
 * // CreateKey:    policy == null ? KeyPolicies.defaultPolicy(account) : KeyPolicies.validateForPut(policy, caller, keyArn, bypass)
 * // PutKeyPolicy: KeyPolicies.validateForPut(policy, caller, keyArn, bypass) after access.check(kms:PutKeyPolicy)
 * // CreateGrant:  GrantRules.authorizeCreateGrant(access, request, proposed, keySpec, keyUsage); a random token stored with the row
 * // RetireGrant:  GrantRules.authorizeRetire(caller, grant)  (by token: the grant whose row holds it)
 * // RevokeGrant:  GrantRules.authorizeRevoke(access, request)
 * // SigV4:        principals is the endpoint's CredentialLookup
 * }</pre>
 */
package io.hsmkit.kms.access;
