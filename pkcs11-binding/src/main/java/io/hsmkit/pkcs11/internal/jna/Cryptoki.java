package io.hsmkit.pkcs11.internal.jna;

/**
 * The PKCS#11 functions as the native layer calls them: every argument is a C integer or an
 * address in native memory, passed as a Java {@code long}, and the result is the raw CK_RV.
 *
 * <p>All 68 functions of v2.40 in CK_FUNCTION_LIST order, then the four v3.0 functions that the
 * binding uses (C_GetInterfaceList, C_GetInterface, C_LoginUser, C_SessionCancel). Passing
 * {@code long} for CK_ULONG is right on LP64; on Win64, where CK_ULONG is 32 bits, the callee reads
 * the low half of the 64-bit argument slot, and results are masked by the caller.
 */
public interface Cryptoki {
  long C_Initialize(long pInitArgs);

  long C_Finalize(long pReserved);

  long C_GetInfo(long pInfo);

  long C_GetFunctionList(long ppFunctionList);

  long C_GetSlotList(long tokenPresent, long pSlotList, long pulCount);

  long C_GetSlotInfo(long slotID, long pInfo);

  long C_GetTokenInfo(long slotID, long pInfo);

  long C_GetMechanismList(long slotID, long pMechanismList, long pulCount);

  long C_GetMechanismInfo(long slotID, long type, long pInfo);

  long C_InitToken(long slotID, long pPin, long ulPinLen, long pLabel);

  long C_InitPIN(long hSession, long pPin, long ulPinLen);

  long C_SetPIN(long hSession, long pOldPin, long ulOldLen, long pNewPin, long ulNewLen);

  long C_OpenSession(long slotID, long flags, long pApplication, long Notify, long phSession);

  long C_CloseSession(long hSession);

  long C_CloseAllSessions(long slotID);

  long C_GetSessionInfo(long hSession, long pInfo);

  long C_GetOperationState(long hSession, long pOperationState, long pulOperationStateLen);

  long C_SetOperationState(long hSession, long pOperationState, long ulOperationStateLen, long hEncryptionKey, long hAuthenticationKey);

  long C_Login(long hSession, long userType, long pPin, long ulPinLen);

  long C_Logout(long hSession);

  long C_CreateObject(long hSession, long pTemplate, long ulCount, long phObject);

  long C_CopyObject(long hSession, long hObject, long pTemplate, long ulCount, long phNewObject);

  long C_DestroyObject(long hSession, long hObject);

  long C_GetObjectSize(long hSession, long hObject, long pulSize);

  long C_GetAttributeValue(long hSession, long hObject, long pTemplate, long ulCount);

  long C_SetAttributeValue(long hSession, long hObject, long pTemplate, long ulCount);

  long C_FindObjectsInit(long hSession, long pTemplate, long ulCount);

  long C_FindObjects(long hSession, long phObject, long ulMaxObjectCount, long pulObjectCount);

  long C_FindObjectsFinal(long hSession);

  long C_EncryptInit(long hSession, long pMechanism, long hKey);

  long C_Encrypt(long hSession, long pData, long ulDataLen, long pEncryptedData, long pulEncryptedDataLen);

  long C_EncryptUpdate(long hSession, long pPart, long ulPartLen, long pEncryptedPart, long pulEncryptedPartLen);

  long C_EncryptFinal(long hSession, long pLastEncryptedPart, long pulLastEncryptedPartLen);

  long C_DecryptInit(long hSession, long pMechanism, long hKey);

  long C_Decrypt(long hSession, long pEncryptedData, long ulEncryptedDataLen, long pData, long pulDataLen);

  long C_DecryptUpdate(long hSession, long pEncryptedPart, long ulEncryptedPartLen, long pPart, long pulPartLen);

  long C_DecryptFinal(long hSession, long pLastPart, long pulLastPartLen);

  long C_DigestInit(long hSession, long pMechanism);

  long C_Digest(long hSession, long pData, long ulDataLen, long pDigest, long pulDigestLen);

  long C_DigestUpdate(long hSession, long pPart, long ulPartLen);

  long C_DigestKey(long hSession, long hKey);

  long C_DigestFinal(long hSession, long pDigest, long pulDigestLen);

  long C_SignInit(long hSession, long pMechanism, long hKey);

  long C_Sign(long hSession, long pData, long ulDataLen, long pSignature, long pulSignatureLen);

  long C_SignUpdate(long hSession, long pPart, long ulPartLen);

  long C_SignFinal(long hSession, long pSignature, long pulSignatureLen);

  long C_SignRecoverInit(long hSession, long pMechanism, long hKey);

  long C_SignRecover(long hSession, long pData, long ulDataLen, long pSignature, long pulSignatureLen);

  long C_VerifyInit(long hSession, long pMechanism, long hKey);

  long C_Verify(long hSession, long pData, long ulDataLen, long pSignature, long ulSignatureLen);

  long C_VerifyUpdate(long hSession, long pPart, long ulPartLen);

  long C_VerifyFinal(long hSession, long pSignature, long ulSignatureLen);

  long C_VerifyRecoverInit(long hSession, long pMechanism, long hKey);

  long C_VerifyRecover(long hSession, long pSignature, long ulSignatureLen, long pData, long pulDataLen);

  long C_DigestEncryptUpdate(long hSession, long pPart, long ulPartLen, long pEncryptedPart, long pulEncryptedPartLen);

  long C_DecryptDigestUpdate(long hSession, long pEncryptedPart, long ulEncryptedPartLen, long pPart, long pulPartLen);

  long C_SignEncryptUpdate(long hSession, long pPart, long ulPartLen, long pEncryptedPart, long pulEncryptedPartLen);

  long C_DecryptVerifyUpdate(long hSession, long pEncryptedPart, long ulEncryptedPartLen, long pPart, long pulPartLen);

  long C_GenerateKey(long hSession, long pMechanism, long pTemplate, long ulCount, long phKey);

  long C_GenerateKeyPair(long hSession, long pMechanism, long pPublicKeyTemplate, long ulPublicKeyAttributeCount, long pPrivateKeyTemplate, long ulPrivateKeyAttributeCount, long phPublicKey, long phPrivateKey);

  long C_WrapKey(long hSession, long pMechanism, long hWrappingKey, long hKey, long pWrappedKey, long pulWrappedKeyLen);

  long C_UnwrapKey(long hSession, long pMechanism, long hUnwrappingKey, long pWrappedKey, long ulWrappedKeyLen, long pTemplate, long ulAttributeCount, long phKey);

  long C_DeriveKey(long hSession, long pMechanism, long hBaseKey, long pTemplate, long ulAttributeCount, long phKey);

  long C_SeedRandom(long hSession, long pSeed, long ulSeedLen);

  long C_GenerateRandom(long hSession, long RandomData, long ulRandomLen);

  long C_GetFunctionStatus(long hSession);

  long C_CancelFunction(long hSession);

  long C_WaitForSlotEvent(long flags, long pSlot, long pReserved);

  long C_GetInterfaceList(long pInterfacesList, long pulCount);

  long C_GetInterface(long pInterfaceName, long pVersion, long ppInterface, long flags);

  long C_LoginUser(long hSession, long userType, long pPin, long ulPinLen, long pUsername, long ulUsernameLen);

  long C_SessionCancel(long hSession, long flags);
}
