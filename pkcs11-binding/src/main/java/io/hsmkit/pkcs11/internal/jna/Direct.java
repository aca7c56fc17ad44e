package io.hsmkit.pkcs11.internal.jna;

/**
 * JNA direct mapping of {@link Cryptoki}: static natives (named {@code n_C_*}) bound by {@code Native.register} to the
 * addresses in one library's function table.
 *
 * <p>Direct mapping with {@code long} arguments is JNA's fastest call path (measured on SoftHSM2:
 * 0.96-0.98 of a C loop for 1 KiB operations, against 0.90-0.94 for interface mapping). Natives are
 * bound per class, so {@link NativeModule} defines a private copy of this class for every loaded
 * library through its own class loader; this source is the template for all of those copies.
 */
public final class Direct implements Cryptoki {
  public Direct() {}

  static native long n_C_Initialize(long pInitArgs);
  static native long n_C_Finalize(long pReserved);
  static native long n_C_GetInfo(long pInfo);
  static native long n_C_GetFunctionList(long ppFunctionList);
  static native long n_C_GetSlotList(long tokenPresent, long pSlotList, long pulCount);
  static native long n_C_GetSlotInfo(long slotID, long pInfo);
  static native long n_C_GetTokenInfo(long slotID, long pInfo);
  static native long n_C_GetMechanismList(long slotID, long pMechanismList, long pulCount);
  static native long n_C_GetMechanismInfo(long slotID, long type, long pInfo);
  static native long n_C_InitToken(long slotID, long pPin, long ulPinLen, long pLabel);
  static native long n_C_InitPIN(long hSession, long pPin, long ulPinLen);
  static native long n_C_SetPIN(long hSession, long pOldPin, long ulOldLen, long pNewPin, long ulNewLen);
  static native long n_C_OpenSession(long slotID, long flags, long pApplication, long Notify, long phSession);
  static native long n_C_CloseSession(long hSession);
  static native long n_C_CloseAllSessions(long slotID);
  static native long n_C_GetSessionInfo(long hSession, long pInfo);
  static native long n_C_GetOperationState(long hSession, long pOperationState, long pulOperationStateLen);
  static native long n_C_SetOperationState(long hSession, long pOperationState, long ulOperationStateLen, long hEncryptionKey, long hAuthenticationKey);
  static native long n_C_Login(long hSession, long userType, long pPin, long ulPinLen);
  static native long n_C_Logout(long hSession);
  static native long n_C_CreateObject(long hSession, long pTemplate, long ulCount, long phObject);
  static native long n_C_CopyObject(long hSession, long hObject, long pTemplate, long ulCount, long phNewObject);
  static native long n_C_DestroyObject(long hSession, long hObject);
  static native long n_C_GetObjectSize(long hSession, long hObject, long pulSize);
  static native long n_C_GetAttributeValue(long hSession, long hObject, long pTemplate, long ulCount);
  static native long n_C_SetAttributeValue(long hSession, long hObject, long pTemplate, long ulCount);
  static native long n_C_FindObjectsInit(long hSession, long pTemplate, long ulCount);
  static native long n_C_FindObjects(long hSession, long phObject, long ulMaxObjectCount, long pulObjectCount);
  static native long n_C_FindObjectsFinal(long hSession);
  static native long n_C_EncryptInit(long hSession, long pMechanism, long hKey);
  static native long n_C_Encrypt(long hSession, long pData, long ulDataLen, long pEncryptedData, long pulEncryptedDataLen);
  static native long n_C_EncryptUpdate(long hSession, long pPart, long ulPartLen, long pEncryptedPart, long pulEncryptedPartLen);
  static native long n_C_EncryptFinal(long hSession, long pLastEncryptedPart, long pulLastEncryptedPartLen);
  static native long n_C_DecryptInit(long hSession, long pMechanism, long hKey);
  static native long n_C_Decrypt(long hSession, long pEncryptedData, long ulEncryptedDataLen, long pData, long pulDataLen);
  static native long n_C_DecryptUpdate(long hSession, long pEncryptedPart, long ulEncryptedPartLen, long pPart, long pulPartLen);
  static native long n_C_DecryptFinal(long hSession, long pLastPart, long pulLastPartLen);
  static native long n_C_DigestInit(long hSession, long pMechanism);
  static native long n_C_Digest(long hSession, long pData, long ulDataLen, long pDigest, long pulDigestLen);
  static native long n_C_DigestUpdate(long hSession, long pPart, long ulPartLen);
  static native long n_C_DigestKey(long hSession, long hKey);
  static native long n_C_DigestFinal(long hSession, long pDigest, long pulDigestLen);
  static native long n_C_SignInit(long hSession, long pMechanism, long hKey);
  static native long n_C_Sign(long hSession, long pData, long ulDataLen, long pSignature, long pulSignatureLen);
  static native long n_C_SignUpdate(long hSession, long pPart, long ulPartLen);
  static native long n_C_SignFinal(long hSession, long pSignature, long pulSignatureLen);
  static native long n_C_SignRecoverInit(long hSession, long pMechanism, long hKey);
  static native long n_C_SignRecover(long hSession, long pData, long ulDataLen, long pSignature, long pulSignatureLen);
  static native long n_C_VerifyInit(long hSession, long pMechanism, long hKey);
  static native long n_C_Verify(long hSession, long pData, long ulDataLen, long pSignature, long ulSignatureLen);
  static native long n_C_VerifyUpdate(long hSession, long pPart, long ulPartLen);
  static native long n_C_VerifyFinal(long hSession, long pSignature, long ulSignatureLen);
  static native long n_C_VerifyRecoverInit(long hSession, long pMechanism, long hKey);
  static native long n_C_VerifyRecover(long hSession, long pSignature, long ulSignatureLen, long pData, long pulDataLen);
  static native long n_C_DigestEncryptUpdate(long hSession, long pPart, long ulPartLen, long pEncryptedPart, long pulEncryptedPartLen);
  static native long n_C_DecryptDigestUpdate(long hSession, long pEncryptedPart, long ulEncryptedPartLen, long pPart, long pulPartLen);
  static native long n_C_SignEncryptUpdate(long hSession, long pPart, long ulPartLen, long pEncryptedPart, long pulEncryptedPartLen);
  static native long n_C_DecryptVerifyUpdate(long hSession, long pEncryptedPart, long ulEncryptedPartLen, long pPart, long pulPartLen);
  static native long n_C_GenerateKey(long hSession, long pMechanism, long pTemplate, long ulCount, long phKey);
  static native long n_C_GenerateKeyPair(long hSession, long pMechanism, long pPublicKeyTemplate, long ulPublicKeyAttributeCount, long pPrivateKeyTemplate, long ulPrivateKeyAttributeCount, long phPublicKey, long phPrivateKey);
  static native long n_C_WrapKey(long hSession, long pMechanism, long hWrappingKey, long hKey, long pWrappedKey, long pulWrappedKeyLen);
  static native long n_C_UnwrapKey(long hSession, long pMechanism, long hUnwrappingKey, long pWrappedKey, long ulWrappedKeyLen, long pTemplate, long ulAttributeCount, long phKey);
  static native long n_C_DeriveKey(long hSession, long pMechanism, long hBaseKey, long pTemplate, long ulAttributeCount, long phKey);
  static native long n_C_SeedRandom(long hSession, long pSeed, long ulSeedLen);
  static native long n_C_GenerateRandom(long hSession, long RandomData, long ulRandomLen);
  static native long n_C_GetFunctionStatus(long hSession);
  static native long n_C_CancelFunction(long hSession);
  static native long n_C_WaitForSlotEvent(long flags, long pSlot, long pReserved);
  static native long n_C_GetInterfaceList(long pInterfacesList, long pulCount);
  static native long n_C_GetInterface(long pInterfaceName, long pVersion, long ppInterface, long flags);
  static native long n_C_LoginUser(long hSession, long userType, long pPin, long ulPinLen, long pUsername, long ulUsernameLen);
  static native long n_C_SessionCancel(long hSession, long flags);

  @Override
  public long C_Initialize(long pInitArgs) {
    return n_C_Initialize(pInitArgs);
  }

  @Override
  public long C_Finalize(long pReserved) {
    return n_C_Finalize(pReserved);
  }

  @Override
  public long C_GetInfo(long pInfo) {
    return n_C_GetInfo(pInfo);
  }

  @Override
  public long C_GetFunctionList(long ppFunctionList) {
    return n_C_GetFunctionList(ppFunctionList);
  }

  @Override
  public long C_GetSlotList(long tokenPresent, long pSlotList, long pulCount) {
    return n_C_GetSlotList(tokenPresent, pSlotList, pulCount);
  }

  @Override
  public long C_GetSlotInfo(long slotID, long pInfo) {
    return n_C_GetSlotInfo(slotID, pInfo);
  }

  @Override
  public long C_GetTokenInfo(long slotID, long pInfo) {
    return n_C_GetTokenInfo(slotID, pInfo);
  }

  @Override
  public long C_GetMechanismList(long slotID, long pMechanismList, long pulCount) {
    return n_C_GetMechanismList(slotID, pMechanismList, pulCount);
  }

  @Override
  public long C_GetMechanismInfo(long slotID, long type, long pInfo) {
    return n_C_GetMechanismInfo(slotID, type, pInfo);
  }

  @Override
  public long C_InitToken(long slotID, long pPin, long ulPinLen, long pLabel) {
    return n_C_InitToken(slotID, pPin, ulPinLen, pLabel);
  }

  @Override
  public long C_InitPIN(long hSession, long pPin, long ulPinLen) {
    return n_C_InitPIN(hSession, pPin, ulPinLen);
  }

  @Override
  public long C_SetPIN(long hSession, long pOldPin, long ulOldLen, long pNewPin, long ulNewLen) {
    return n_C_SetPIN(hSession, pOldPin, ulOldLen, pNewPin, ulNewLen);
  }

  @Override
  public long C_OpenSession(long slotID, long flags, long pApplication, long Notify, long phSession) {
    return n_C_OpenSession(slotID, flags, pApplication, Notify, phSession);
  }

  @Override
  public long C_CloseSession(long hSession) {
    return n_C_CloseSession(hSession);
  }

  @Override
  public long C_CloseAllSessions(long slotID) {
    return n_C_CloseAllSessions(slotID);
  }

  @Override
  public long C_GetSessionInfo(long hSession, long pInfo) {
    return n_C_GetSessionInfo(hSession, pInfo);
  }

  @Override
  public long C_GetOperationState(long hSession, long pOperationState, long pulOperationStateLen) {
    return n_C_GetOperationState(hSession, pOperationState, pulOperationStateLen);
  }

  @Override
  public long C_SetOperationState(long hSession, long pOperationState, long ulOperationStateLen, long hEncryptionKey, long hAuthenticationKey) {
    return n_C_SetOperationState(hSession, pOperationState, ulOperationStateLen, hEncryptionKey, hAuthenticationKey);
  }

  @Override
  public long C_Login(long hSession, long userType, long pPin, long ulPinLen) {
    return n_C_Login(hSession, userType, pPin, ulPinLen);
  }

  @Override
  public long C_Logout(long hSession) {
    return n_C_Logout(hSession);
  }

  @Override
  public long C_CreateObject(long hSession, long pTemplate, long ulCount, long phObject) {
    return n_C_CreateObject(hSession, pTemplate, ulCount, phObject);
  }

  @Override
  public long C_CopyObject(long hSession, long hObject, long pTemplate, long ulCount, long phNewObject) {
    return n_C_CopyObject(hSession, hObject, pTemplate, ulCount, phNewObject);
  }

  @Override
  public long C_DestroyObject(long hSession, long hObject) {
    return n_C_DestroyObject(hSession, hObject);
  }

  @Override
  public long C_GetObjectSize(long hSession, long hObject, long pulSize) {
    return n_C_GetObjectSize(hSession, hObject, pulSize);
  }

  @Override
  public long C_GetAttributeValue(long hSession, long hObject, long pTemplate, long ulCount) {
    return n_C_GetAttributeValue(hSession, hObject, pTemplate, ulCount);
  }

  @Override
  public long C_SetAttributeValue(long hSession, long hObject, long pTemplate, long ulCount) {
    return n_C_SetAttributeValue(hSession, hObject, pTemplate, ulCount);
  }

  @Override
  public long C_FindObjectsInit(long hSession, long pTemplate, long ulCount) {
    return n_C_FindObjectsInit(hSession, pTemplate, ulCount);
  }

  @Override
  public long C_FindObjects(long hSession, long phObject, long ulMaxObjectCount, long pulObjectCount) {
    return n_C_FindObjects(hSession, phObject, ulMaxObjectCount, pulObjectCount);
  }

  @Override
  public long C_FindObjectsFinal(long hSession) {
    return n_C_FindObjectsFinal(hSession);
  }

  @Override
  public long C_EncryptInit(long hSession, long pMechanism, long hKey) {
    return n_C_EncryptInit(hSession, pMechanism, hKey);
  }

  @Override
  public long C_Encrypt(long hSession, long pData, long ulDataLen, long pEncryptedData, long pulEncryptedDataLen) {
    return n_C_Encrypt(hSession, pData, ulDataLen, pEncryptedData, pulEncryptedDataLen);
  }

  @Override
  public long C_EncryptUpdate(long hSession, long pPart, long ulPartLen, long pEncryptedPart, long pulEncryptedPartLen) {
    return n_C_EncryptUpdate(hSession, pPart, ulPartLen, pEncryptedPart, pulEncryptedPartLen);
  }

  @Override
  public long C_EncryptFinal(long hSession, long pLastEncryptedPart, long pulLastEncryptedPartLen) {
    return n_C_EncryptFinal(hSession, pLastEncryptedPart, pulLastEncryptedPartLen);
  }

  @Override
  public long C_DecryptInit(long hSession, long pMechanism, long hKey) {
    return n_C_DecryptInit(hSession, pMechanism, hKey);
  }

  @Override
  public long C_Decrypt(long hSession, long pEncryptedData, long ulEncryptedDataLen, long pData, long pulDataLen) {
    return n_C_Decrypt(hSession, pEncryptedData, ulEncryptedDataLen, pData, pulDataLen);
  }

  @Override
  public long C_DecryptUpdate(long hSession, long pEncryptedPart, long ulEncryptedPartLen, long pPart, long pulPartLen) {
    return n_C_DecryptUpdate(hSession, pEncryptedPart, ulEncryptedPartLen, pPart, pulPartLen);
  }

  @Override
  public long C_DecryptFinal(long hSession, long pLastPart, long pulLastPartLen) {
    return n_C_DecryptFinal(hSession, pLastPart, pulLastPartLen);
  }

  @Override
  public long C_DigestInit(long hSession, long pMechanism) {
    return n_C_DigestInit(hSession, pMechanism);
  }

  @Override
  public long C_Digest(long hSession, long pData, long ulDataLen, long pDigest, long pulDigestLen) {
    return n_C_Digest(hSession, pData, ulDataLen, pDigest, pulDigestLen);
  }

  @Override
  public long C_DigestUpdate(long hSession, long pPart, long ulPartLen) {
    return n_C_DigestUpdate(hSession, pPart, ulPartLen);
  }

  @Override
  public long C_DigestKey(long hSession, long hKey) {
    return n_C_DigestKey(hSession, hKey);
  }

  @Override
  public long C_DigestFinal(long hSession, long pDigest, long pulDigestLen) {
    return n_C_DigestFinal(hSession, pDigest, pulDigestLen);
  }

  @Override
  public long C_SignInit(long hSession, long pMechanism, long hKey) {
    return n_C_SignInit(hSession, pMechanism, hKey);
  }

  @Override
  public long C_Sign(long hSession, long pData, long ulDataLen, long pSignature, long pulSignatureLen) {
    return n_C_Sign(hSession, pData, ulDataLen, pSignature, pulSignatureLen);
  }

  @Override
  public long C_SignUpdate(long hSession, long pPart, long ulPartLen) {
    return n_C_SignUpdate(hSession, pPart, ulPartLen);
  }

  @Override
  public long C_SignFinal(long hSession, long pSignature, long pulSignatureLen) {
    return n_C_SignFinal(hSession, pSignature, pulSignatureLen);
  }

  @Override
  public long C_SignRecoverInit(long hSession, long pMechanism, long hKey) {
    return n_C_SignRecoverInit(hSession, pMechanism, hKey);
  }

  @Override
  public long C_SignRecover(long hSession, long pData, long ulDataLen, long pSignature, long pulSignatureLen) {
    return n_C_SignRecover(hSession, pData, ulDataLen, pSignature, pulSignatureLen);
  }

  @Override
  public long C_VerifyInit(long hSession, long pMechanism, long hKey) {
    return n_C_VerifyInit(hSession, pMechanism, hKey);
  }

  @Override
  public long C_Verify(long hSession, long pData, long ulDataLen, long pSignature, long ulSignatureLen) {
    return n_C_Verify(hSession, pData, ulDataLen, pSignature, ulSignatureLen);
  }

  @Override
  public long C_VerifyUpdate(long hSession, long pPart, long ulPartLen) {
    return n_C_VerifyUpdate(hSession, pPart, ulPartLen);
  }

  @Override
  public long C_VerifyFinal(long hSession, long pSignature, long ulSignatureLen) {
    return n_C_VerifyFinal(hSession, pSignature, ulSignatureLen);
  }

  @Override
  public long C_VerifyRecoverInit(long hSession, long pMechanism, long hKey) {
    return n_C_VerifyRecoverInit(hSession, pMechanism, hKey);
  }

  @Override
  public long C_VerifyRecover(long hSession, long pSignature, long ulSignatureLen, long pData, long pulDataLen) {
    return n_C_VerifyRecover(hSession, pSignature, ulSignatureLen, pData, pulDataLen);
  }

  @Override
  public long C_DigestEncryptUpdate(long hSession, long pPart, long ulPartLen, long pEncryptedPart, long pulEncryptedPartLen) {
    return n_C_DigestEncryptUpdate(hSession, pPart, ulPartLen, pEncryptedPart, pulEncryptedPartLen);
  }

  @Override
  public long C_DecryptDigestUpdate(long hSession, long pEncryptedPart, long ulEncryptedPartLen, long pPart, long pulPartLen) {
    return n_C_DecryptDigestUpdate(hSession, pEncryptedPart, ulEncryptedPartLen, pPart, pulPartLen);
  }

  @Override
  public long C_SignEncryptUpdate(long hSession, long pPart, long ulPartLen, long pEncryptedPart, long pulEncryptedPartLen) {
    return n_C_SignEncryptUpdate(hSession, pPart, ulPartLen, pEncryptedPart, pulEncryptedPartLen);
  }

  @Override
  public long C_DecryptVerifyUpdate(long hSession, long pEncryptedPart, long ulEncryptedPartLen, long pPart, long pulPartLen) {
    return n_C_DecryptVerifyUpdate(hSession, pEncryptedPart, ulEncryptedPartLen, pPart, pulPartLen);
  }

  @Override
  public long C_GenerateKey(long hSession, long pMechanism, long pTemplate, long ulCount, long phKey) {
    return n_C_GenerateKey(hSession, pMechanism, pTemplate, ulCount, phKey);
  }

  @Override
  public long C_GenerateKeyPair(long hSession, long pMechanism, long pPublicKeyTemplate, long ulPublicKeyAttributeCount, long pPrivateKeyTemplate, long ulPrivateKeyAttributeCount, long phPublicKey, long phPrivateKey) {
    return n_C_GenerateKeyPair(hSession, pMechanism, pPublicKeyTemplate, ulPublicKeyAttributeCount, pPrivateKeyTemplate, ulPrivateKeyAttributeCount, phPublicKey, phPrivateKey);
  }

  @Override
  public long C_WrapKey(long hSession, long pMechanism, long hWrappingKey, long hKey, long pWrappedKey, long pulWrappedKeyLen) {
    return n_C_WrapKey(hSession, pMechanism, hWrappingKey, hKey, pWrappedKey, pulWrappedKeyLen);
  }

  @Override
  public long C_UnwrapKey(long hSession, long pMechanism, long hUnwrappingKey, long pWrappedKey, long ulWrappedKeyLen, long pTemplate, long ulAttributeCount, long phKey) {
    return n_C_UnwrapKey(hSession, pMechanism, hUnwrappingKey, pWrappedKey, ulWrappedKeyLen, pTemplate, ulAttributeCount, phKey);
  }

  @Override
  public long C_DeriveKey(long hSession, long pMechanism, long hBaseKey, long pTemplate, long ulAttributeCount, long phKey) {
    return n_C_DeriveKey(hSession, pMechanism, hBaseKey, pTemplate, ulAttributeCount, phKey);
  }

  @Override
  public long C_SeedRandom(long hSession, long pSeed, long ulSeedLen) {
    return n_C_SeedRandom(hSession, pSeed, ulSeedLen);
  }

  @Override
  public long C_GenerateRandom(long hSession, long RandomData, long ulRandomLen) {
    return n_C_GenerateRandom(hSession, RandomData, ulRandomLen);
  }

  @Override
  public long C_GetFunctionStatus(long hSession) {
    return n_C_GetFunctionStatus(hSession);
  }

  @Override
  public long C_CancelFunction(long hSession) {
    return n_C_CancelFunction(hSession);
  }

  @Override
  public long C_WaitForSlotEvent(long flags, long pSlot, long pReserved) {
    return n_C_WaitForSlotEvent(flags, pSlot, pReserved);
  }

  @Override
  public long C_GetInterfaceList(long pInterfacesList, long pulCount) {
    return n_C_GetInterfaceList(pInterfacesList, pulCount);
  }

  @Override
  public long C_GetInterface(long pInterfaceName, long pVersion, long ppInterface, long flags) {
    return n_C_GetInterface(pInterfaceName, pVersion, ppInterface, flags);
  }

  @Override
  public long C_LoginUser(long hSession, long userType, long pPin, long ulPinLen, long pUsername, long ulUsernameLen) {
    return n_C_LoginUser(hSession, userType, pPin, ulPinLen, pUsername, ulUsernameLen);
  }

  @Override
  public long C_SessionCancel(long hSession, long flags) {
    return n_C_SessionCancel(hSession, flags);
  }
}
