package io.hsmkit.kms.blob;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EncryptionContextCodecTest {
  static String hex(Map<String, String> m) {
    return HexFormat.of().formatHex(EncryptionContextCodec.encode(m));
  }

  @Test
  void knownEncodings() {
    assertThat(hex(null)).isEqualTo("00000000");
    assertThat(hex(Map.of())).isEqualTo("00000000");
    assertThat(hex(Map.of("ab", "c"))).isEqualTo("00000001" + "00000002" + "6162" + "00000001" + "63");
    assertThat(hex(Map.of("a", "bc"))).isEqualTo("00000001" + "00000001" + "61" + "00000002" + "6263");
    assertThat(hex(Map.of("é", ""))).isEqualTo("00000001" + "00000002" + "c3a9" + "00000000");
  }

  @ParameterizedTest
  @CsvSource({"ab,c,a,bc", "a,bc,ab,c", "k,v,K,v", "k,v,k,V", "k,'',k,' '", "'',x,x,''"})
  void differentContextsNeverEncodeAlike(String k1, String v1, String k2, String v2) {
    assertThat(hex(Map.of(k1, v1))).isNotEqualTo(hex(Map.of(k2, v2)));
  }

  @Test
  void pairsAreJoinedUnambiguously() {
    // {"a":"b","c":"d"} against {"a":"bcd"} and {"ab":"cd"}: same concatenation, different codes.
    List<Map<String, String>> l = List.of(Map.of("a", "b", "c", "d"), Map.of("a", "bcd"), Map.of("ab", "cd"), Map.of("abc", "d"));
    assertThat(l.stream().map(EncryptionContextCodecTest::hex).distinct()).hasSize(4);
  }

  @Test
  void orderOfInsertionDoesNotMatter() {
    Map<String, String> a = new LinkedHashMap<>();
    a.put("z", "1");
    a.put("a", "2");
    a.put("é", "3");
    Map<String, String> b = new LinkedHashMap<>();
    b.put("é", "3");
    b.put("a", "2");
    b.put("z", "1");
    assertThat(hex(a)).isEqualTo(hex(b));
    // UTF-8 byte order: "a" (61) < "z" (7a) < "é" (c3 a9).
    assertThat(hex(a)).startsWith("00000003" + "00000001" + "61");
  }

  @Test
  void blobLayoutRoundTrips() {
    UUID id = UUID.randomUUID();
    byte[] iv = new byte[12];
    iv[0] = 7;
    byte[] body = new byte[20];
    CiphertextBlob b = new CiphertextBlob(id, 3, iv, body);
    byte[] bytes = b.toBytes();
    assertThat(bytes).hasSize(21 + 12 + 20);
    assertThat(bytes[0]).isEqualTo((byte) 1);
    CiphertextBlob p = CiphertextBlob.parse(bytes);
    assertThat(p.keyId()).isEqualTo(id);
    assertThat(p.keyVersion()).isEqualTo(3);
    assertThat(p.iv()).isEqualTo(iv);
    assertThat(p.ciphertextAndTag()).isEqualTo(body);
    byte[] v2 = bytes.clone();
    v2[0] = 2;
    assertThatThrownBy(() -> CiphertextBlob.parse(v2)).isInstanceOf(KmsException.class)
        .satisfies(e -> assertThat(((KmsException) e).error()).isEqualTo(KmsError.INVALID_CIPHERTEXT));
    byte[] v0 = bytes.clone();
    v0[17] = 0;
    v0[18] = 0;
    v0[19] = 0;
    v0[20] = 0;
    assertThatThrownBy(() -> CiphertextBlob.parse(v0)).isInstanceOf(KmsException.class);
    assertThatThrownBy(() -> CiphertextBlob.parse(new byte[CiphertextBlob.MIN_BYTES - 1])).isInstanceOf(KmsException.class);
  }
}
