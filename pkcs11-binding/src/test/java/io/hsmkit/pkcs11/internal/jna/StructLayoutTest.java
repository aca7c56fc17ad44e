package io.hsmkit.pkcs11.internal.jna;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.hsmkit.pkcs11.raw.Platform;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Checks every layout in {@link Layouts#ALL} against gcc's {@code sizeof} and {@code offsetof} on
 * p11-kit's {@code pkcs11.h}, and {@link StructLayout.Builder#build(boolean, int, int)} against
 * hand-computed layouts of other platforms (Windows pack(1), 32-bit).
 *
 * <p>The C program is generated from {@link Layouts#ALL}, so a layout added there is checked
 * without touching this test; only a structure the header lacks needs an entry in {@link #C_TYPES}
 * and a definition in {@link #EXTRA_DEFINITIONS}.
 */
class StructLayoutTest {
  private static final String INSTALL = "run bash softhsm-config/install.sh (needs gcc and libp11-kit-dev)";
  private static final Path HEADER = Path.of("/usr/include/p11-kit-1/p11-kit/pkcs11.h");

  /** Layout name to C type, where they differ (default: the same name, from the header). */
  private static final Map<String, String> C_TYPES =
      Map.of(
          "CK_EDDSA_PARAMS", "hsmkit_CK_EDDSA_PARAMS",
          "CK_INTERFACE", "hsmkit_CK_INTERFACE",
          "CK_GCM_PARAMS_NO_IVBITS", "hsmkit_CK_GCM_PARAMS_NO_IVBITS");

  /**
   * The structures p11-kit's v2.40 header does not have, written with the header's CK_ types as the
   * specification defines them. The header's default CRYPTOKI_COMPAT mode gives the spec's member
   * names ({@code pIv}, {@code ulIvBits}, ...), which are also the field names in {@link Layouts}.
   */
  private static final String EXTRA_DEFINITIONS =
      """
      /* PKCS #11 v3.0, EdDSA mechanism parameters: CK_EDDSA_PARAMS. */
      typedef struct hsmkit_CK_EDDSA_PARAMS {
        CK_BBOOL phFlag;
        CK_ULONG ulContextDataLen;
        CK_BYTE_PTR pContextData;
      } hsmkit_CK_EDDSA_PARAMS;

      /* PKCS #11 v3.0, C_GetInterfaceList/C_GetInterface: CK_INTERFACE. */
      typedef struct hsmkit_CK_INTERFACE {
        CK_UTF8CHAR_PTR pInterfaceName;
        CK_VOID_PTR pFunctionList;
        CK_FLAGS flags;
      } hsmkit_CK_INTERFACE;

      /* CK_GCM_PARAMS as PKCS #11 v2.40 was first published (and v2.20 amendment 5): no ulIvBits. */
      typedef struct hsmkit_CK_GCM_PARAMS_NO_IVBITS {
        CK_BYTE_PTR pIv;
        CK_ULONG ulIvLen;
        CK_BYTE_PTR pAAD;
        CK_ULONG ulAADLen;
        CK_ULONG ulTagBits;
      } hsmkit_CK_GCM_PARAMS_NO_IVBITS;
      """;

  // ------------------------------------------------------------------ against the C compiler

  @Test
  void everyLayoutMatchesGccOnTheP11KitHeader() throws Exception {
    if (!Files.isReadable(HEADER)) {
      fail("p11-kit's pkcs11.h is missing (" + HEADER + "): " + INSTALL);
    }
    Path dir = buildDir().resolve("structlayout");
    Files.createDirectories(dir);
    Path source = dir.resolve("layouts.c");
    Path binary = dir.resolve("layouts");
    Files.writeString(source, cProgram(), StandardCharsets.UTF_8);
    Result cc = run(List.of("gcc", "-std=c11", "-Wall", "-I/usr/include/p11-kit-1", "-o", binary.toString(), source.toString()));
    assertThat(cc.exit).as("gcc failed on %s:%n%s", source, cc.output).isZero();
    Result out = run(List.of(binary.toString()));
    assertThat(out.exit).as("%s failed: %s", binary, out.output).isZero();

    Map<String, Long> c = new LinkedHashMap<>();
    for (String line : out.output.split("\n")) {
      if (!line.isBlank()) {
        String[] kv = line.trim().split(" ");
        c.put(kv[0], Long.parseLong(kv[1]));
      }
    }
    List<String> mismatches = new ArrayList<>();
    int checked = 0;
    for (StructLayout l : Layouts.ALL) {
      checked += compare(mismatches, c, l.name(), l.name() + " sizeof", l.size());
      for (Map.Entry<String, Integer> f : l.offsets().entrySet()) {
        checked += compare(mismatches, c, l.name() + "." + f.getKey(), l.name() + "." + f.getKey() + " offsetof", f.getValue());
      }
    }
    assertThat(mismatches).as("layouts that differ from gcc (%s, pointer %d, CK_ULONG %d)", System.getProperty("os.arch"), Platform.POINTER_SIZE, Platform.ULONG_SIZE).isEmpty();
    assertThat(checked).as("sizes and offsets compared").isGreaterThan(80);
  }

  private static int compare(List<String> mismatches, Map<String, Long> c, String key, String what, long java) {
    Long gcc = c.get(key);
    if (gcc == null) {
      mismatches.add(what + ": not printed by the C program");
    } else if (gcc != java) {
      mismatches.add(what + ": Java " + java + ", gcc " + gcc);
    }
    return 1;
  }

  /** The C program: prints "NAME size" and "NAME.field offset" for every layout and field. */
  static String cProgram() {
    StringBuilder b = new StringBuilder();
    b.append("/* Generated by StructLayoutTest from io.hsmkit.pkcs11.internal.jna.Layouts.ALL. */\n");
    b.append("#include <stddef.h>\n#include <stdio.h>\n#include <p11-kit/pkcs11.h>\n\n");
    b.append(EXTRA_DEFINITIONS).append('\n');
    b.append("int main(void) {\n");
    for (StructLayout l : Layouts.ALL) {
      String type = C_TYPES.getOrDefault(l.name(), l.name());
      b.append("  printf(\"%s %zu\\n\", \"").append(l.name()).append("\", sizeof(").append(type).append("));\n");
      for (String field : l.offsets().keySet()) {
        b.append("  printf(\"%s %zu\\n\", \"").append(l.name()).append('.').append(field)
            .append("\", offsetof(").append(type).append(", ").append(field).append("));\n");
      }
    }
    b.append("  return 0;\n}\n");
    return b.toString();
  }

  @Test
  void allListsEveryLayoutConstant() throws Exception {
    List<String> constants = new ArrayList<>();
    for (Field f : Layouts.class.getFields()) {
      if (Modifier.isStatic(f.getModifiers()) && f.getType() == StructLayout.class) {
        StructLayout l = (StructLayout) f.get(null);
        assertThat(l.name()).as("constant %s", f.getName()).isEqualTo(f.getName());
        constants.add(f.getName());
      }
    }
    assertThat(Layouts.ALL).extracting(StructLayout::name).containsExactlyInAnyOrderElementsOf(constants).doesNotHaveDuplicates();
  }

  // ------------------------------------------------------------------ other platforms' rules

  // The same field lists as in Layouts, so that other platforms can be built from them.
  static StructLayout.Builder ckInfo() {
    return StructLayout.builder("CK_INFO").version("cryptokiVersion").bytes("manufacturerID", 32).ulong("flags").bytes("libraryDescription", 32).version("libraryVersion");
  }

  static StructLayout.Builder ckTokenInfo() {
    StructLayout.Builder b = StructLayout.builder("CK_TOKEN_INFO").bytes("label", 32).bytes("manufacturerID", 32).bytes("model", 16).bytes("serialNumber", 16).ulong("flags");
    for (String f : new String[] {"ulMaxSessionCount", "ulSessionCount", "ulMaxRwSessionCount", "ulRwSessionCount", "ulMaxPinLen", "ulMinPinLen",
        "ulTotalPublicMemory", "ulFreePublicMemory", "ulTotalPrivateMemory", "ulFreePrivateMemory"}) {
      b.ulong(f);
    }
    return b.version("hardwareVersion").version("firmwareVersion").bytes("utcTime", 16);
  }

  static StructLayout.Builder ckGcmParams() {
    return StructLayout.builder("CK_GCM_PARAMS").pointer("pIv").ulong("ulIvLen").ulong("ulIvBits").pointer("pAAD").ulong("ulAADLen").ulong("ulTagBits");
  }

  static StructLayout.Builder ckAttribute() {
    return StructLayout.builder("CK_ATTRIBUTE").ulong("type").pointer("pValue").ulong("ulValueLen");
  }

  static StructLayout.Builder ckEddsaParams() {
    return StructLayout.builder("CK_EDDSA_PARAMS").bytes("phFlag", 1).ulong("ulContextDataLen").pointer("pContextData");
  }

  @Test
  void theMirroredFieldListsAreTheOnesInLayouts() {
    assertThat(ckInfo().build().offsets()).isEqualTo(Layouts.CK_INFO.offsets());
    assertThat(ckInfo().build().size()).isEqualTo(Layouts.CK_INFO.size());
    assertThat(ckTokenInfo().build().offsets()).isEqualTo(Layouts.CK_TOKEN_INFO.offsets());
    assertThat(ckTokenInfo().build().size()).isEqualTo(Layouts.CK_TOKEN_INFO.size());
    assertThat(ckGcmParams().build().offsets()).isEqualTo(Layouts.CK_GCM_PARAMS.offsets());
    assertThat(ckAttribute().build().offsets()).isEqualTo(Layouts.CK_ATTRIBUTE.offsets());
    assertThat(ckEddsaParams().build().offsets()).isEqualTo(Layouts.CK_EDDSA_PARAMS.offsets());
  }

  @Test
  void windows64PacksToOneByte() {
    // #pragma pack(push, cryptoki, 1), 8-byte pointers, 4-byte CK_ULONG (LLP64).
    StructLayout info = ckInfo().build(true, 8, 4);
    assertThat(info.size()).isEqualTo(2 + 32 + 4 + 32 + 2).isEqualTo(72);
    assertThat(info.offsets()).containsExactly(
        Map.entry("cryptokiVersion", 0), Map.entry("manufacturerID", 2), Map.entry("flags", 34), Map.entry("libraryDescription", 38), Map.entry("libraryVersion", 70));

    StructLayout token = ckTokenInfo().build(true, 8, 4);
    assertThat(token.size()).isEqualTo(32 + 32 + 16 + 16 + 11 * 4 + 2 + 2 + 16).isEqualTo(160);
    assertThat(token.offset("flags")).isEqualTo(96);
    assertThat(token.offset("ulMaxSessionCount")).isEqualTo(100);
    assertThat(token.offset("ulFreePrivateMemory")).isEqualTo(136);
    assertThat(token.offset("hardwareVersion")).isEqualTo(140);
    assertThat(token.offset("firmwareVersion")).isEqualTo(142);
    assertThat(token.offset("utcTime")).isEqualTo(144);

    StructLayout gcm = ckGcmParams().build(true, 8, 4);
    assertThat(gcm.size()).isEqualTo(8 + 4 + 4 + 8 + 4 + 4).isEqualTo(32);
    assertThat(gcm.offsets()).containsExactly(
        Map.entry("pIv", 0), Map.entry("ulIvLen", 8), Map.entry("ulIvBits", 12), Map.entry("pAAD", 16), Map.entry("ulAADLen", 24), Map.entry("ulTagBits", 28));

    StructLayout attr = ckAttribute().build(true, 8, 4);
    assertThat(attr.size()).isEqualTo(16);
    assertThat(attr.offset("pValue")).as("no padding before the pointer under pack(1)").isEqualTo(4);
    assertThat(attr.offset("ulValueLen")).isEqualTo(12);

    StructLayout eddsa = ckEddsaParams().build(true, 8, 4);
    assertThat(eddsa.offsets()).containsExactly(Map.entry("phFlag", 0), Map.entry("ulContextDataLen", 1), Map.entry("pContextData", 5));
    assertThat(eddsa.size()).isEqualTo(13);
  }

  @Test
  void windows32PacksToOneByte() {
    assertThat(ckInfo().build(true, 4, 4).size()).isEqualTo(72);
    assertThat(ckGcmParams().build(true, 4, 4).size()).isEqualTo(24);
    assertThat(ckAttribute().build(true, 4, 4).size()).isEqualTo(12);
    assertThat(ckEddsaParams().build(true, 4, 4).size()).isEqualTo(9);
  }

  @Test
  void naturalAlignmentOnIlp32AndLp64() {
    // i386 Linux: 4-byte CK_ULONG and pointers, natural alignment.
    StructLayout info32 = ckInfo().build(false, 4, 4);
    assertThat(info32.offset("flags")).isEqualTo(36);
    assertThat(info32.offset("libraryDescription")).isEqualTo(40);
    assertThat(info32.offset("libraryVersion")).isEqualTo(72);
    assertThat(info32.size()).as("74 rounded up to 4").isEqualTo(76);
    assertThat(ckEddsaParams().build(false, 4, 4).offset("ulContextDataLen")).isEqualTo(4);
    assertThat(ckEddsaParams().build(false, 4, 4).size()).isEqualTo(12);

    // x86-64 / aarch64 Linux and macOS (LP64).
    StructLayout info64 = ckInfo().build(false, 8, 8);
    assertThat(info64.offset("flags")).as("34 rounded up to 8").isEqualTo(40);
    assertThat(info64.offset("libraryDescription")).isEqualTo(48);
    assertThat(info64.offset("libraryVersion")).isEqualTo(80);
    assertThat(info64.size()).as("82 rounded up to 8").isEqualTo(88);
    StructLayout token64 = ckTokenInfo().build(false, 8, 8);
    assertThat(token64.offset("ulFreePrivateMemory")).isEqualTo(176);
    assertThat(token64.offset("utcTime")).isEqualTo(188);
    assertThat(token64.size()).as("204 rounded up to 8").isEqualTo(208);
    assertThat(ckGcmParams().build(false, 8, 8).size()).isEqualTo(48);
    assertThat(ckEddsaParams().build(false, 8, 8).offsets()).containsExactly(Map.entry("phFlag", 0), Map.entry("ulContextDataLen", 8), Map.entry("pContextData", 16));
    // Win64 without packing would put pValue at 8; with CK_ULONG 4 bytes and natural alignment:
    assertThat(ckAttribute().build(false, 8, 4).offset("pValue")).isEqualTo(8);
    assertThat(ckAttribute().build(false, 8, 4).size()).isEqualTo(24);
  }

  @Test
  void unknownFieldIsRefused() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Layouts.CK_INFO.offset("nope"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("CK_INFO has no field nope");
  }

  // ------------------------------------------------------------------ helpers

  private static Path buildDir() {
    return Path.of(System.getProperty("hsmkit.build.dir", "target")).toAbsolutePath();
  }

  private record Result(int exit, String output) {}

  private static Result run(List<String> cmd) throws InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    } catch (IOException e) {
      return fail("cannot run " + cmd.get(0) + " (" + e.getMessage() + "): " + INSTALL);
    }
    String out;
    try {
      out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return fail("cannot read the output of " + cmd.get(0) + ": " + e.getMessage());
    }
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return fail(cmd.get(0) + " did not finish in 60 s");
    }
    return new Result(p.exitValue(), out);
  }
}
