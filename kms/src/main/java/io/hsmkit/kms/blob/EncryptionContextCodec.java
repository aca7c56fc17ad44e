package io.hsmkit.kms.blob;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The canonical, unambiguous byte encoding of an encryption context, authenticated as part of a
 * ciphertext blob's AAD.
 *
 * <pre>
 *   u32 pair count
 *   for each pair, in ascending unsigned byte order of the UTF-8 key:
 *     u32 key length,   key bytes (UTF-8)
 *     u32 value length, value bytes (UTF-8)
 * </pre>
 *
 * All integers are big-endian. Because every key and value carries its own length, no two
 * different contexts encode alike: {@code {"ab":"c"}} gives {@code 00000001 00000002 6162 00000001 63}
 * and {@code {"a":"bc"}} gives {@code 00000001 00000001 61 00000002 6263} (the emulators that join
 * sorted keys and values without separators authenticate both as "abc"). Keys and values compare
 * case-sensitively, as AWS's do. An empty or null context encodes as four zero bytes.
 */
public final class EncryptionContextCodec {
  private EncryptionContextCodec() {}

  /** The canonical encoding of {@code context} (null is the empty context). */
  public static byte[] encode(Map<String, String> context) {
    List<byte[][]> pairs = new ArrayList<>();
    if (context != null) {
      for (Map.Entry<String, String> e : context.entrySet()) {
        if (e.getKey() == null || e.getValue() == null) {
          throw new IllegalArgumentException("an encryption context has no null keys or values");
        }
        pairs.add(new byte[][] {e.getKey().getBytes(StandardCharsets.UTF_8), e.getValue().getBytes(StandardCharsets.UTF_8)});
      }
    }
    // Sorting by UTF-8 bytes, not by Java's UTF-16 order, so any implementation can re-derive it.
    pairs.sort((a, b) -> Arrays.compareUnsigned(a[0], b[0]));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    u32(out, pairs.size());
    for (byte[][] p : pairs) {
      u32(out, p[0].length);
      out.writeBytes(p[0]);
      u32(out, p[1].length);
      out.writeBytes(p[1]);
    }
    return out.toByteArray();
  }

  private static void u32(ByteArrayOutputStream out, int v) {
    out.write(v >>> 24);
    out.write(v >>> 16);
    out.write(v >>> 8);
    out.write(v);
  }
}
