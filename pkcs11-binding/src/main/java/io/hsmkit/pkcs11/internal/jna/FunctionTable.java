package io.hsmkit.pkcs11.internal.jna;

import java.util.List;

/** The order of CK_FUNCTION_LIST (v2.40, 68 entries) and CK_FUNCTION_LIST_3_0 (continued). */
final class FunctionTable {
  private FunctionTable() {}

  /** Entries of CK_FUNCTION_LIST in v2.40. */
  static final int V2_COUNT = 68;

  /** Entries of CK_FUNCTION_LIST_3_0 that the binding binds (the message functions follow and are not used). */
  static final int V3_COUNT = 72;

  static final List<String> NAMES =
      List.of(
          "C_Initialize",
          "C_Finalize",
          "C_GetInfo",
          "C_GetFunctionList",
          "C_GetSlotList",
          "C_GetSlotInfo",
          "C_GetTokenInfo",
          "C_GetMechanismList",
          "C_GetMechanismInfo",
          "C_InitToken",
          "C_InitPIN",
          "C_SetPIN",
          "C_OpenSession",
          "C_CloseSession",
          "C_CloseAllSessions",
          "C_GetSessionInfo",
          "C_GetOperationState",
          "C_SetOperationState",
          "C_Login",
          "C_Logout",
          "C_CreateObject",
          "C_CopyObject",
          "C_DestroyObject",
          "C_GetObjectSize",
          "C_GetAttributeValue",
          "C_SetAttributeValue",
          "C_FindObjectsInit",
          "C_FindObjects",
          "C_FindObjectsFinal",
          "C_EncryptInit",
          "C_Encrypt",
          "C_EncryptUpdate",
          "C_EncryptFinal",
          "C_DecryptInit",
          "C_Decrypt",
          "C_DecryptUpdate",
          "C_DecryptFinal",
          "C_DigestInit",
          "C_Digest",
          "C_DigestUpdate",
          "C_DigestKey",
          "C_DigestFinal",
          "C_SignInit",
          "C_Sign",
          "C_SignUpdate",
          "C_SignFinal",
          "C_SignRecoverInit",
          "C_SignRecover",
          "C_VerifyInit",
          "C_Verify",
          "C_VerifyUpdate",
          "C_VerifyFinal",
          "C_VerifyRecoverInit",
          "C_VerifyRecover",
          "C_DigestEncryptUpdate",
          "C_DecryptDigestUpdate",
          "C_SignEncryptUpdate",
          "C_DecryptVerifyUpdate",
          "C_GenerateKey",
          "C_GenerateKeyPair",
          "C_WrapKey",
          "C_UnwrapKey",
          "C_DeriveKey",
          "C_SeedRandom",
          "C_GenerateRandom",
          "C_GetFunctionStatus",
          "C_CancelFunction",
          "C_WaitForSlotEvent",
          "C_GetInterfaceList",
          "C_GetInterface",
          "C_LoginUser",
          "C_SessionCancel");

  static int index(String name) {
    int i = NAMES.indexOf(name);
    if (i < 0) {
      throw new IllegalArgumentException(name);
    }
    return i;
  }
}
