package io.hsmkit.pkcs11.internal.jna;

import java.util.List;

/** Every PKCS#11 structure the binding reads or writes, laid out for this platform. */
public final class Layouts {
  private Layouts() {}

  public static final StructLayout CK_VERSION = StructLayout.builder("CK_VERSION").bytes("major", 1).bytes("minor", 1).build();

  public static final StructLayout CK_INFO =
      StructLayout.builder("CK_INFO")
          .version("cryptokiVersion")
          .bytes("manufacturerID", 32)
          .ulong("flags")
          .bytes("libraryDescription", 32)
          .version("libraryVersion")
          .build();

  public static final StructLayout CK_SLOT_INFO =
      StructLayout.builder("CK_SLOT_INFO")
          .bytes("slotDescription", 64)
          .bytes("manufacturerID", 32)
          .ulong("flags")
          .version("hardwareVersion")
          .version("firmwareVersion")
          .build();

  public static final StructLayout CK_TOKEN_INFO =
      StructLayout.builder("CK_TOKEN_INFO")
          .bytes("label", 32)
          .bytes("manufacturerID", 32)
          .bytes("model", 16)
          .bytes("serialNumber", 16)
          .ulong("flags")
          .ulong("ulMaxSessionCount")
          .ulong("ulSessionCount")
          .ulong("ulMaxRwSessionCount")
          .ulong("ulRwSessionCount")
          .ulong("ulMaxPinLen")
          .ulong("ulMinPinLen")
          .ulong("ulTotalPublicMemory")
          .ulong("ulFreePublicMemory")
          .ulong("ulTotalPrivateMemory")
          .ulong("ulFreePrivateMemory")
          .version("hardwareVersion")
          .version("firmwareVersion")
          .bytes("utcTime", 16)
          .build();

  public static final StructLayout CK_SESSION_INFO =
      StructLayout.builder("CK_SESSION_INFO").ulong("slotID").ulong("state").ulong("flags").ulong("ulDeviceError").build();

  public static final StructLayout CK_MECHANISM_INFO =
      StructLayout.builder("CK_MECHANISM_INFO").ulong("ulMinKeySize").ulong("ulMaxKeySize").ulong("flags").build();

  public static final StructLayout CK_ATTRIBUTE =
      StructLayout.builder("CK_ATTRIBUTE").ulong("type").pointer("pValue").ulong("ulValueLen").build();

  public static final StructLayout CK_MECHANISM =
      StructLayout.builder("CK_MECHANISM").ulong("mechanism").pointer("pParameter").ulong("ulParameterLen").build();

  public static final StructLayout CK_C_INITIALIZE_ARGS =
      StructLayout.builder("CK_C_INITIALIZE_ARGS")
          .pointer("CreateMutex")
          .pointer("DestroyMutex")
          .pointer("LockMutex")
          .pointer("UnlockMutex")
          .ulong("flags")
          .pointer("pReserved")
          .build();

  /** CK_GCM_PARAMS as in v2.40 errata and v3.0: with ulIvBits. SoftHSM2 takes this one. */
  public static final StructLayout CK_GCM_PARAMS =
      StructLayout.builder("CK_GCM_PARAMS")
          .pointer("pIv")
          .ulong("ulIvLen")
          .ulong("ulIvBits")
          .pointer("pAAD")
          .ulong("ulAADLen")
          .ulong("ulTagBits")
          .build();

  /** CK_GCM_PARAMS as v2.40 was first published (and v2.20 amendment 5): without ulIvBits. */
  public static final StructLayout CK_GCM_PARAMS_NO_IVBITS =
      StructLayout.builder("CK_GCM_PARAMS_NO_IVBITS")
          .pointer("pIv")
          .ulong("ulIvLen")
          .pointer("pAAD")
          .ulong("ulAADLen")
          .ulong("ulTagBits")
          .build();

  public static final StructLayout CK_RSA_PKCS_OAEP_PARAMS =
      StructLayout.builder("CK_RSA_PKCS_OAEP_PARAMS")
          .ulong("hashAlg")
          .ulong("mgf")
          .ulong("source")
          .pointer("pSourceData")
          .ulong("ulSourceDataLen")
          .build();

  public static final StructLayout CK_RSA_PKCS_PSS_PARAMS =
      StructLayout.builder("CK_RSA_PKCS_PSS_PARAMS").ulong("hashAlg").ulong("mgf").ulong("sLen").build();

  public static final StructLayout CK_ECDH1_DERIVE_PARAMS =
      StructLayout.builder("CK_ECDH1_DERIVE_PARAMS")
          .ulong("kdf")
          .ulong("ulSharedDataLen")
          .pointer("pSharedData")
          .ulong("ulPublicDataLen")
          .pointer("pPublicData")
          .build();

  public static final StructLayout CK_AES_CTR_PARAMS =
      StructLayout.builder("CK_AES_CTR_PARAMS").ulong("ulCounterBits").bytes("cb", 16).build();

  public static final StructLayout CK_EDDSA_PARAMS =
      StructLayout.builder("CK_EDDSA_PARAMS").bytes("phFlag", 1).ulong("ulContextDataLen").pointer("pContextData").build();

  /** CK_INTERFACE (v3.0), returned by C_GetInterface. */
  public static final StructLayout CK_INTERFACE =
      StructLayout.builder("CK_INTERFACE").pointer("pInterfaceName").pointer("pFunctionList").ulong("flags").build();

  /** All of them, for the layout test. */
  public static final List<StructLayout> ALL =
      List.of(
          CK_VERSION,
          CK_INFO,
          CK_SLOT_INFO,
          CK_TOKEN_INFO,
          CK_SESSION_INFO,
          CK_MECHANISM_INFO,
          CK_ATTRIBUTE,
          CK_MECHANISM,
          CK_C_INITIALIZE_ARGS,
          CK_GCM_PARAMS,
          CK_GCM_PARAMS_NO_IVBITS,
          CK_RSA_PKCS_OAEP_PARAMS,
          CK_RSA_PKCS_PSS_PARAMS,
          CK_ECDH1_DERIVE_PARAMS,
          CK_AES_CTR_PARAMS,
          CK_EDDSA_PARAMS,
          CK_INTERFACE);
}
