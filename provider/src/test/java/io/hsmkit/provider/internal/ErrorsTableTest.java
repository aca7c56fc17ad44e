package io.hsmkit.provider.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.constants.CKR;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.ProviderException;
import java.util.ArrayList;
import java.util.List;
import javax.crypto.AEADBadTagException;
import javax.crypto.BadPaddingException;
import javax.crypto.IllegalBlockSizeException;
import javax.crypto.ShortBufferException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** One case per row of the CKR-to-JCA table; the real-token cases live with each SPI's tests. */
class ErrorsTableTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "ENCRYPTED_DATA_INVALID, BAD_PADDING",
      "AEAD_DECRYPT_FAILED, BAD_TAG",
      "ENCRYPTED_DATA_LEN_RANGE, ILLEGAL_BLOCK_SIZE",
      "DATA_LEN_RANGE, ILLEGAL_BLOCK_SIZE",
      "DATA_INVALID, ILLEGAL_BLOCK_SIZE",
      "BUFFER_TOO_SMALL, SHORT_BUFFER",
      "KEY_HANDLE_INVALID, INVALID_KEY",
      "OBJECT_HANDLE_INVALID, INVALID_KEY",
      "KEY_TYPE_INCONSISTENT, INVALID_KEY",
      "KEY_SIZE_RANGE, INVALID_KEY",
      "KEY_FUNCTION_NOT_PERMITTED, INVALID_KEY",
      "KEY_UNEXTRACTABLE, INVALID_KEY",
      "KEY_NOT_WRAPPABLE, INVALID_KEY",
      "KEY_INDIGESTIBLE, INVALID_KEY",
      "WRAPPING_KEY_HANDLE_INVALID, INVALID_KEY",
      "WRAPPING_KEY_SIZE_RANGE, INVALID_KEY",
      "WRAPPING_KEY_TYPE_INCONSISTENT, INVALID_KEY",
      "UNWRAPPING_KEY_HANDLE_INVALID, INVALID_KEY",
      "UNWRAPPING_KEY_SIZE_RANGE, INVALID_KEY",
      "UNWRAPPING_KEY_TYPE_INCONSISTENT, INVALID_KEY",
      "WRAPPED_KEY_INVALID, INVALID_KEY",
      "WRAPPED_KEY_LEN_RANGE, INVALID_KEY",
      "MECHANISM_PARAM_INVALID, INVALID_PARAMETER",
      "MECHANISM_INVALID, INVALID_PARAMETER",
      "DOMAIN_PARAMS_INVALID, INVALID_PARAMETER",
      "CURVE_NOT_SUPPORTED, INVALID_PARAMETER",
      "SIGNATURE_INVALID, BAD_SIGNATURE",
      "SIGNATURE_LEN_RANGE, BAD_SIGNATURE",
      "PIN_INCORRECT, FAILED_LOGIN",
      "PIN_INVALID, FAILED_LOGIN",
      "PIN_LEN_RANGE, FAILED_LOGIN",
      "PIN_EXPIRED, FAILED_LOGIN",
      "PIN_LOCKED, FAILED_LOGIN",
      "DEVICE_ERROR, PROVIDER",
      "DEVICE_REMOVED, PROVIDER",
      "SESSION_HANDLE_INVALID, PROVIDER",
      "GENERAL_ERROR, PROVIDER"})
  void everyRowMapsAsDocumented(String code, Errors.Kind kind) throws Exception {
    long ckr = CKR.class.getField(code).getLong(null);
    Pkcs11Exception e = new Pkcs11Exception("C_Test", ckr);
    assertThat(Errors.kind(e)).isEqualTo(kind);
  }

  @Test
  void cipherExceptionsHaveTheJcaTypesAndKeepTheCause() {
    List<Object[]> rows = new ArrayList<>();
    rows.add(new Object[] {CKR.ENCRYPTED_DATA_INVALID, true, AEADBadTagException.class});
    rows.add(new Object[] {CKR.ENCRYPTED_DATA_INVALID, false, BadPaddingException.class});
    rows.add(new Object[] {CKR.ENCRYPTED_DATA_LEN_RANGE, false, IllegalBlockSizeException.class});
    rows.add(new Object[] {CKR.BUFFER_TOO_SMALL, false, ShortBufferException.class});
    rows.add(new Object[] {CKR.KEY_TYPE_INCONSISTENT, false, InvalidKeyException.class});
    for (Object[] r : rows) {
      Pkcs11Exception e = new Pkcs11Exception("C_Decrypt", (Long) r[0]);
      GeneralSecurityException g = Errors.cipher(e, (Boolean) r[1]);
      assertThat(g).isInstanceOf((Class<?>) r[2]).hasCause(e);
      assertThat(g.getMessage()).contains(CKR.name((Long) r[0]));
    }
    Pkcs11Exception dev = new Pkcs11Exception("C_Decrypt", CKR.DEVICE_ERROR);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Errors.cipher(dev, false))
        .isInstanceOf(ProviderException.class).hasMessageContaining("C_Decrypt").hasMessageContaining("CKR_DEVICE_ERROR");
    assertThat(Errors.failedLogin(new Pkcs11Exception("C_Login", CKR.PIN_INCORRECT)).getMessage()).contains("CKR_PIN_INCORRECT");
  }
}
