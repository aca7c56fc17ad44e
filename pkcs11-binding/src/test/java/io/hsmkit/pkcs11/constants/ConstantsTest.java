package io.hsmkit.pkcs11.constants;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ConstantsTest {

    private static final String INSTALL_HINT = "apt-get install gcc libp11-kit-dev";
    private static final Path HEADER = Paths.get("/usr/include/p11-kit-1/p11-kit/pkcs11.h");
    private static final String INCLUDE_DIR = "/usr/include/p11-kit-1";

    /** Prefix to the class holding that prefix's constants. */
    private static final Map<String, Class<?>> CLASSES = new LinkedHashMap<>();

    static {
        CLASSES.put("CKR", CKR.class);
        CLASSES.put("CKM", CKM.class);
        CLASSES.put("CKA", CKA.class);
        CLASSES.put("CKK", CKK.class);
        CLASSES.put("CKO", CKO.class);
        CLASSES.put("CKC", CKC.class);
        CLASSES.put("CKU", CKU.class);
        CLASSES.put("CKS", CKS.class);
        CLASSES.put("CKG", CKG.class);
        CLASSES.put("CKD", CKD.class);
        CLASSES.put("CKZ", CKZ.class);
        CLASSES.put("CKF", CKF.class);
    }

    /**
     * p11-kit's pkcs11.h still carries the pre-v2.40 numbers for these five codes; our classes use
     * the OASIS values (0x1B5..0x1B9). The header value listed here is accepted as well, any other
     * value is a mismatch.
     */
    private static final Map<String, Long> P11KIT_KNOWN_DEVIATIONS = Map.of(
            "CKR_EXCEEDED_MAX_ITERATIONS", 0x1C0L,
            "CKR_FIPS_SELF_TEST_FAILED", 0x1C1L,
            "CKR_LIBRARY_LOAD_FAILED", 0x1C2L,
            "CKR_PIN_TOO_WEAK", 0x1C3L,
            "CKR_PUBLIC_KEY_INVALID", 0x1C4L);

    /** p11-kit vendor extensions that are not part of the OASIS specification. */
    private static final Set<String> P11KIT_EXTENSIONS = Set.of("CKC_OPENPGP");

    // ------------------------------------------------------------------ known values and names

    @Test
    void returnValues() {
        assertThat(CKR.OK).isEqualTo(0L);
        assertThat(CKR.name(CKR.OK)).isEqualTo("CKR_OK");
        assertThat(CKR.DEVICE_ERROR).isEqualTo(0x30L);
        assertThat(CKR.name(0x30L)).isEqualTo("CKR_DEVICE_ERROR");
        assertThat(CKR.PIN_INCORRECT).isEqualTo(0xA0L);
        assertThat(CKR.describe(CKR.PIN_INCORRECT)).isEqualTo("CKR_PIN_INCORRECT (0x000000A0)");
        assertThat(CKR.OPERATION_CANCEL_FAILED).isEqualTo(0x202L);
        assertThat(CKR.name(0x202L)).isEqualTo("CKR_OPERATION_CANCEL_FAILED");
        assertThat(CKR.TOKEN_RESOURCE_EXCEEDED).isEqualTo(0x201L);
        assertThat(CKR.AEAD_DECRYPT_FAILED).isEqualTo(0x42L);
        assertThat(CKR.PIN_TOO_WEAK).isEqualTo(0x1B8L);
        assertThat(CKR.VENDOR_DEFINED).isEqualTo(0x80000000L);
        assertThat(CKR.name(CKR.VENDOR_DEFINED)).isEqualTo("CKR_VENDOR_DEFINED");
    }

    @Test
    void mechanisms() {
        assertThat(CKM.AES_GCM).isEqualTo(0x1087L);
        assertThat(CKM.name(0x1087L)).isEqualTo("CKM_AES_GCM");
        assertThat(CKM.AES_CMAC).isEqualTo(0x108AL);
        assertThat(CKM.EC_EDWARDS_KEY_PAIR_GEN).isEqualTo(0x1055L);
        assertThat(CKM.EDDSA).isEqualTo(0x1057L);
        assertThat(CKM.name(0x1057L)).isEqualTo("CKM_EDDSA");
        assertThat(CKM.AES_KEY_WRAP).isEqualTo(0x2109L);
        // v3.0 gives PAD and KWP different numbers.
        assertThat(CKM.AES_KEY_WRAP_PAD).isEqualTo(0x210AL);
        assertThat(CKM.AES_KEY_WRAP_KWP).isEqualTo(0x210BL);
        assertThat(CKM.name(0x210AL)).isEqualTo("CKM_AES_KEY_WRAP_PAD");
        assertThat(CKM.name(0x210BL)).isEqualTo("CKM_AES_KEY_WRAP_KWP");
        // Aliases resolve to the current name.
        assertThat(CKM.name(CKM.ECDSA_KEY_PAIR_GEN)).isEqualTo("CKM_EC_KEY_PAIR_GEN");
        assertThat(CKM.name(CKM.CAST5_CBC)).isEqualTo("CKM_CAST128_CBC");
        assertThat(CKM.name(CKM.SHA3_256_KEY_DERIVE)).isEqualTo("CKM_SHA3_256_KEY_DERIVATION");
        assertThat(CKM.name(CKM.DSA_PROBABLISTIC_PARAMETER_GEN))
                .isEqualTo("CKM_DSA_PROBABILISTIC_PARAMETER_GEN");
    }

    @Test
    void attributesKeysObjects() {
        assertThat(CKA.VALUE_LEN).isEqualTo(0x161L);
        assertThat(CKA.WRAP_TEMPLATE).isEqualTo(0x40000211L).isEqualTo(CKF.ARRAY_ATTRIBUTE | 0x211L);
        assertThat(CKA.name(0x40000211L)).isEqualTo("CKA_WRAP_TEMPLATE");
        assertThat(CKA.ALLOWED_MECHANISMS).isEqualTo(0x40000600L);
        assertThat(CKA.PROFILE_ID).isEqualTo(0x601L);
        assertThat(CKA.name(CKA.ECDSA_PARAMS)).isEqualTo("CKA_EC_PARAMS");
        assertThat(CKA.name(0x134L)).isEqualTo("CKA_SUBPRIME_BITS");
        assertThat(CKK.EC_EDWARDS).isEqualTo(0x40L);
        assertThat(CKK.name(3L)).isEqualTo("CKK_EC");
        assertThat(CKK.name(0x18L)).isEqualTo("CKK_CAST128");
        assertThat(CKO.SECRET_KEY).isEqualTo(4L);
        assertThat(CKO.name(CKO.PROFILE)).isEqualTo("CKO_PROFILE");
        assertThat(CKC.name(CKC.X_509)).isEqualTo("CKC_X_509");
    }

    @Test
    void smallEnumerations() {
        assertThat(CKU.SO).isZero();
        assertThat(CKU.USER).isEqualTo(1L);
        assertThat(CKU.CONTEXT_SPECIFIC).isEqualTo(2L);
        assertThat(CKU.name(2L)).isEqualTo("CKU_CONTEXT_SPECIFIC");
        assertThat(CKS.RW_SO_FUNCTIONS).isEqualTo(4L);
        assertThat(CKG.MGF1_SHA1).isEqualTo(1L);
        assertThat(CKG.MGF1_SHA256).isEqualTo(2L);
        assertThat(CKG.MGF1_SHA384).isEqualTo(3L);
        assertThat(CKG.MGF1_SHA512).isEqualTo(4L);
        assertThat(CKG.MGF1_SHA224).isEqualTo(5L);
        assertThat(CKG.name(1L)).isEqualTo("CKG_MGF1_SHA1");
        assertThat(CKG.name(3L)).isEqualTo("CKG_MGF1_SHA384");
        assertThat(CKD.NULL).isEqualTo(1L);
        assertThat(CKD.SHA1_KDF).isEqualTo(2L);
        assertThat(CKD.name(6L)).isEqualTo("CKD_SHA256_KDF");
        assertThat(CKZ.DATA_SPECIFIED).isEqualTo(1L);
        assertThat(CKZ.name(1L)).isEqualTo("CKZ_DATA_SPECIFIED");
    }

    @Test
    void flags() {
        assertThat(CKF.RW_SESSION).isEqualTo(2L);
        assertThat(CKF.SERIAL_SESSION).isEqualTo(4L);
        assertThat(CKF.LIBRARY_CANT_CREATE_OS_THREADS).isEqualTo(1L);
        assertThat(CKF.OS_LOCKING_OK).isEqualTo(2L);
        assertThat(CKF.INTERFACE_FORK_SAFE).isEqualTo(1L);
        assertThat(CKF.ARRAY_ATTRIBUTE).isEqualTo(0x40000000L);
        assertThat(CKF.EC_NAMEDCURVE).isEqualTo(CKF.EC_OID).isEqualTo(0x00800000L);
        assertThat(CKF.EXTENSION).isEqualTo(0x80000000L);
        assertThat(CKF.describe(CKF.RW_SESSION | CKF.SERIAL_SESSION, "session"))
                .isEqualTo("CKF_RW_SESSION|CKF_SERIAL_SESSION");
        assertThat(CKF.describe(CKF.HW | CKF.SIGN | CKF.VERIFY | 0x10000000L, "mechanism"))
                .isEqualTo("CKF_HW|CKF_SIGN|CKF_VERIFY|0x10000000");
        assertThat(CKF.describe(0, "token")).isEqualTo("0");
        assertThatThrownBy(() -> CKF.describe(1, "nope")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void vendorAndUnknownFormatting() {
        assertThat(CKR.name(0x80000123L)).isEqualTo("CKR_VENDOR_DEFINED+0x123");
        assertThat(CKR.describe(0x80000123L)).isEqualTo("CKR_VENDOR_DEFINED+0x123 (0x80000123)");
        assertThat(CKM.name(0x80000001L)).isEqualTo("CKM_VENDOR_DEFINED+0x1");
        assertThat(CKA.name(0x80000ABCL)).isEqualTo("CKA_VENDOR_DEFINED+0xABC");
        assertThat(CKK.name(0x80000010L)).isEqualTo("CKK_VENDOR_DEFINED+0x10");
        assertThat(CKO.name(0x80000002L)).isEqualTo("CKO_VENDOR_DEFINED+0x2");

        assertThat(CKR.name(0x333L)).isEqualTo("CKR_0x00000333");
        assertThat(CKR.describe(0x333L)).isEqualTo("CKR_0x00000333 (0x00000333)");
        assertThat(CKM.name(0x9999L)).isEqualTo("CKM_0x00009999");
        // Classes without a vendor range format every unknown value as hex.
        assertThat(CKU.name(0x80000000L)).isEqualTo("CKU_0x80000000");
        assertThat(CKD.name(0x99L)).isEqualTo("CKD_0x00000099");
    }

    @Test
    void classShapeAndNameRoundTrip() throws Exception {
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Class<?>> e : CLASSES.entrySet()) {
            Class<?> c = e.getValue();
            if (!Modifier.isFinal(c.getModifiers())) {
                problems.add(c.getSimpleName() + " is not final");
            }
            for (Constructor<?> k : c.getDeclaredConstructors()) {
                if (!Modifier.isPrivate(k.getModifiers())) {
                    problems.add(c.getSimpleName() + " has a non-private constructor");
                }
            }
            if (c == CKF.class) {
                continue;
            }
            var name = c.getMethod("name", long.class);
            for (Field f : constantFields(c)) {
                long v = f.getLong(null);
                String n = (String) name.invoke(null, v);
                String fieldOfName = n.substring(4);
                if (!Character.isLetter(fieldOfName.charAt(0))) {
                    fieldOfName = "_" + fieldOfName;
                }
                long back = c.getField(fieldOfName).getLong(null);
                if (back != v) {
                    problems.add(c.getSimpleName() + ".name(" + v + ") = " + n + " but that is " + back);
                }
            }
        }
        assertThat(problems).withFailMessage(String.join("\n", problems)).isEmpty();
    }

    // ------------------------------------------------------------------ cross-check with the C header

    @Test
    void matchesP11KitHeader() throws Exception {
        if (!Files.isReadable(HEADER)) {
            fail(HEADER + " is missing; install the PKCS#11 header and a C compiler: " + INSTALL_HINT);
        }
        try {
            Process p = new ProcessBuilder("gcc", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                fail("gcc --version failed; " + INSTALL_HINT);
            }
        } catch (IOException e) {
            fail("gcc is not available (" + e.getMessage() + "); " + INSTALL_HINT);
        }

        String header = Files.readString(HEADER, StandardCharsets.ISO_8859_1);
        Set<String> names = new LinkedHashSet<>();
        Matcher m = Pattern.compile(
                "^[ \\t]*#[ \\t]*define[ \\t]+(CK[RMAKOCUSGDZF]_[A-Z0-9_]+)(?=[ \\t]|$)",
                Pattern.MULTILINE).matcher(header);
        while (m.find()) {
            names.add(m.group(1));
        }
        names.removeAll(P11KIT_EXTENSIONS);

        Path workDir = Paths.get(System.getProperty("hsmkit.build.dir", "target"), "p11kit-constants");
        Files.createDirectories(workDir);
        Map<String, Long> headerValues = dumpWithGcc(workDir, names);

        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Long> e : headerValues.entrySet()) {
            String cName = e.getKey();
            long headerValue = e.getValue();
            Class<?> c = CLASSES.get(cName.substring(0, 3));
            String fieldName = cName.substring(4);
            if (Character.isDigit(fieldName.charAt(0))) {
                fieldName = "_" + fieldName;
            }
            Field f;
            try {
                f = c.getField(fieldName);
            } catch (NoSuchFieldException ex) {
                problems.add(String.format(Locale.ROOT, "%s: missing as %s.%s (header value 0x%08X)",
                        cName, c.getSimpleName(), fieldName, headerValue));
                continue;
            }
            if (f.getType() != long.class || !Modifier.isStatic(f.getModifiers())
                    || !Modifier.isFinal(f.getModifiers())) {
                problems.add(cName + ": " + c.getSimpleName() + "." + fieldName
                        + " is not a static final long");
                continue;
            }
            long ours = f.getLong(null);
            if (ours == headerValue) {
                continue;
            }
            Long knownHeaderValue = P11KIT_KNOWN_DEVIATIONS.get(cName);
            if (knownHeaderValue != null && knownHeaderValue == headerValue) {
                continue;
            }
            problems.add(String.format(Locale.ROOT, "%s: header 0x%08X, %s.%s = 0x%08X",
                    cName, headerValue, c.getSimpleName(), fieldName, ours));
        }

        assertThat(headerValues.size())
                .as("number of constants read from the header (scan or compile went wrong?)")
                .isGreaterThan(400);
        assertThat(problems)
                .withFailMessage("%d of %d header constants disagree with io.hsmkit.pkcs11.constants:%n%s",
                        problems.size(), headerValues.size(), String.join("\n", problems))
                .isEmpty();
    }

    /**
     * Compiles and runs a C program that prints {@code NAME VALUE} for every name. If gcc rejects
     * some lines, those names are dropped and the compile is retried once.
     */
    private static Map<String, Long> dumpWithGcc(Path workDir, Set<String> names) throws Exception {
        Path source = workDir.resolve("p11kit_constants.c");
        Path binary = workDir.resolve("p11kit_constants");
        Set<String> remaining = new LinkedHashSet<>(names);
        Set<String> dropped = new TreeSet<>();
        String compilerOutput = "";
        for (int attempt = 0; attempt < 2; attempt++) {
            Map<Integer, String> lineToName = writeSource(source, remaining);
            ProcessResult cc = run(List.of("gcc", "-std=c99", "-I" + INCLUDE_DIR, "-o",
                    binary.toString(), source.toString()));
            if (cc.exit == 0) {
                if (!dropped.isEmpty()) {
                    System.out.println("[ConstantsTest] not integer constants, skipped: " + dropped);
                }
                ProcessResult out = run(List.of(binary.toAbsolutePath().toString()));
                if (out.exit != 0) {
                    fail("constant dump program failed (exit " + out.exit + "):\n" + out.output);
                }
                Map<String, Long> values = new LinkedHashMap<>();
                for (String line : out.output.split("\n")) {
                    String[] parts = line.trim().split(" ");
                    if (parts.length == 2) {
                        values.put(parts[0], Long.parseUnsignedLong(parts[1]));
                    }
                }
                return values;
            }
            compilerOutput = cc.output;
            Matcher err = Pattern.compile(Pattern.quote(source.getFileName().toString())
                    + ":(\\d+):\\d+: error").matcher(cc.output);
            Set<String> bad = new LinkedHashSet<>();
            while (err.find()) {
                String n = lineToName.get(Integer.parseInt(err.group(1)));
                if (n != null) {
                    bad.add(n);
                }
            }
            if (bad.isEmpty()) {
                break;
            }
            remaining.removeAll(bad);
            dropped.addAll(bad);
        }
        return fail("could not compile the constant dump program (" + INSTALL_HINT + "?):\n"
                + compilerOutput);
    }

    private static Map<Integer, String> writeSource(Path source, Set<String> names) throws IOException {
        Map<Integer, String> lineToName = new LinkedHashMap<>();
        List<String> lines = new ArrayList<>();
        lines.add("#include <stdio.h>");
        lines.add("#include <p11-kit/pkcs11.h>");
        lines.add("int main(void) {");
        for (String n : names) {
            lines.add("  printf(\"%s %lu\\n\", \"" + n + "\", (unsigned long)(" + n + "));");
            lineToName.put(lines.size(), n);
        }
        lines.add("  return 0;");
        lines.add("}");
        Files.write(source, lines, StandardCharsets.US_ASCII);
        return lineToName;
    }

    private record ProcessResult(int exit, String output) {
    }

    private static ProcessResult run(List<String> command) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            return fail("cannot run " + command.get(0) + " (" + e.getMessage() + "); " + INSTALL_HINT);
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(command.get(0) + " timed out");
        }
        return new ProcessResult(p.exitValue(), output);
    }

    private static List<Field> constantFields(Class<?> c) {
        List<Field> out = new ArrayList<>();
        for (Field f : c.getFields()) {
            int mod = f.getModifiers();
            if (Modifier.isStatic(mod) && Modifier.isFinal(mod) && f.getType() == long.class) {
                out.add(f);
            }
        }
        return out;
    }
}
