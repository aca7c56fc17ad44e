package io.hsmkit.pkcs11.constants;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * PKCS#11 bit flags ({@code CK_FLAGS}, prefix {@code CKF_}) of v2.40 and v3.0, all families in
 * one class: slot, token, session, mechanism, {@code C_Initialize}, {@code C_WaitForSlotEvent},
 * array attribute, OTP, HKDF salt, interface and message flags.
 *
 * <p>Field names drop the {@code CKF_} prefix. Different families reuse the same bits (for
 * example {@link #HW}, {@link #RNG} and {@link #TOKEN_PRESENT} are all 0x1), so a value alone has
 * no single name and this class has no {@code name(long)}; use {@link #describe(long, String)}
 * with the family instead. No flag name means two different values in two families.
 */
public final class CKF {

    private CKF() {
    }

    // --- Slot flags (CK_SLOT_INFO.flags) ---
    public static final long TOKEN_PRESENT = 0x00000001L;
    public static final long REMOVABLE_DEVICE = 0x00000002L;
    public static final long HW_SLOT = 0x00000004L;

    // --- Token flags (CK_TOKEN_INFO.flags) ---
    public static final long RNG = 0x00000001L;
    public static final long WRITE_PROTECTED = 0x00000002L;
    public static final long LOGIN_REQUIRED = 0x00000004L;
    public static final long USER_PIN_INITIALIZED = 0x00000008L;
    public static final long RESTORE_KEY_NOT_NEEDED = 0x00000020L;
    public static final long CLOCK_ON_TOKEN = 0x00000040L;
    public static final long PROTECTED_AUTHENTICATION_PATH = 0x00000100L;
    public static final long DUAL_CRYPTO_OPERATIONS = 0x00000200L;
    public static final long TOKEN_INITIALIZED = 0x00000400L;
    public static final long SECONDARY_AUTHENTICATION = 0x00000800L;
    public static final long USER_PIN_COUNT_LOW = 0x00010000L;
    public static final long USER_PIN_FINAL_TRY = 0x00020000L;
    public static final long USER_PIN_LOCKED = 0x00040000L;
    public static final long USER_PIN_TO_BE_CHANGED = 0x00080000L;
    public static final long SO_PIN_COUNT_LOW = 0x00100000L;
    public static final long SO_PIN_FINAL_TRY = 0x00200000L;
    public static final long SO_PIN_LOCKED = 0x00400000L;
    public static final long SO_PIN_TO_BE_CHANGED = 0x00800000L;
    /** v3.0. */
    public static final long ERROR_STATE = 0x01000000L;

    // --- Session flags (C_OpenSession, CK_SESSION_INFO.flags) ---
    public static final long RW_SESSION = 0x00000002L;
    public static final long SERIAL_SESSION = 0x00000004L;

    // --- Mechanism flags (CK_MECHANISM_INFO.flags) ---
    public static final long HW = 0x00000001L;
    /** v3.0. */
    public static final long MESSAGE_ENCRYPT = 0x00000002L;
    /** v3.0. */
    public static final long MESSAGE_DECRYPT = 0x00000004L;
    /** v3.0. */
    public static final long MESSAGE_SIGN = 0x00000008L;
    /** v3.0. */
    public static final long MESSAGE_VERIFY = 0x00000010L;
    /** v3.0. */
    public static final long MULTI_MESSAGE = 0x00000020L;
    /** Misspelt name the v3.0 header uses for {@link #MULTI_MESSAGE}. */
    public static final long MULTI_MESSGE = 0x00000020L;
    /** v3.0. */
    public static final long FIND_OBJECTS = 0x00000040L;
    public static final long ENCRYPT = 0x00000100L;
    public static final long DECRYPT = 0x00000200L;
    public static final long DIGEST = 0x00000400L;
    public static final long SIGN = 0x00000800L;
    public static final long SIGN_RECOVER = 0x00001000L;
    public static final long VERIFY = 0x00002000L;
    public static final long VERIFY_RECOVER = 0x00004000L;
    public static final long GENERATE = 0x00008000L;
    public static final long GENERATE_KEY_PAIR = 0x00010000L;
    public static final long WRAP = 0x00020000L;
    public static final long UNWRAP = 0x00040000L;
    public static final long DERIVE = 0x00080000L;
    public static final long EC_F_P = 0x00100000L;
    public static final long EC_F_2M = 0x00200000L;
    public static final long EC_ECPARAMETERS = 0x00400000L;
    /** v3.0 name of the bit v2.40 called {@link #EC_NAMEDCURVE}. */
    public static final long EC_OID = 0x00800000L;
    /** Same bit as {@link #EC_OID}; deprecated name since v3.0. */
    public static final long EC_NAMEDCURVE = 0x00800000L;
    public static final long EC_UNCOMPRESS = 0x01000000L;
    public static final long EC_COMPRESS = 0x02000000L;
    /** v3.0. */
    public static final long EC_CURVENAME = 0x04000000L;
    public static final long EXTENSION = 0x80000000L;

    // --- C_Initialize flags (CK_C_INITIALIZE_ARGS.flags) ---
    public static final long LIBRARY_CANT_CREATE_OS_THREADS = 0x00000001L;
    public static final long OS_LOCKING_OK = 0x00000002L;

    // --- C_WaitForSlotEvent flags ---
    public static final long DONT_BLOCK = 0x00000001L;

    // --- Attribute type flag ---
    /** Marks attribute types whose value is an array (e.g. {@link CKA#WRAP_TEMPLATE}). */
    public static final long ARRAY_ATTRIBUTE = 0x40000000L;

    // --- OTP flags (CK_OTP_PARAM flags) ---
    public static final long NEXT_OTP = 0x00000001L;
    public static final long EXCLUDE_TIME = 0x00000002L;
    public static final long EXCLUDE_COUNTER = 0x00000004L;
    public static final long EXCLUDE_CHALLENGE = 0x00000008L;
    public static final long EXCLUDE_PIN = 0x00000010L;
    public static final long USER_FRIENDLY_OTP = 0x00000020L;

    // --- HKDF salt types (CK_HKDF_PARAMS.ulSaltType), v3.0 ---
    public static final long HKDF_SALT_NULL = 0x00000001L;
    public static final long HKDF_SALT_DATA = 0x00000002L;
    public static final long HKDF_SALT_KEY = 0x00000004L;

    // --- Interface flags (CK_INTERFACE.flags), v3.0 ---
    public static final long INTERFACE_FORK_SAFE = 0x00000001L;

    // --- Message flags (C_EncryptMessageNext etc.), v3.0 ---
    public static final long END_OF_MESSAGE = 0x00000001L;

    /** Family name to its flag field names, in bit order; aliases left out. */
    private static final Map<String, List<String>> FAMILY_FIELDS = Map.ofEntries(
            Map.entry("slot", List.of("TOKEN_PRESENT", "REMOVABLE_DEVICE", "HW_SLOT")),
            Map.entry("token", List.of("RNG", "WRITE_PROTECTED", "LOGIN_REQUIRED",
                    "USER_PIN_INITIALIZED", "RESTORE_KEY_NOT_NEEDED", "CLOCK_ON_TOKEN",
                    "PROTECTED_AUTHENTICATION_PATH", "DUAL_CRYPTO_OPERATIONS", "TOKEN_INITIALIZED",
                    "SECONDARY_AUTHENTICATION", "USER_PIN_COUNT_LOW", "USER_PIN_FINAL_TRY",
                    "USER_PIN_LOCKED", "USER_PIN_TO_BE_CHANGED", "SO_PIN_COUNT_LOW",
                    "SO_PIN_FINAL_TRY", "SO_PIN_LOCKED", "SO_PIN_TO_BE_CHANGED", "ERROR_STATE")),
            Map.entry("session", List.of("RW_SESSION", "SERIAL_SESSION")),
            Map.entry("mechanism", List.of("HW", "MESSAGE_ENCRYPT", "MESSAGE_DECRYPT",
                    "MESSAGE_SIGN", "MESSAGE_VERIFY", "MULTI_MESSAGE", "FIND_OBJECTS", "ENCRYPT",
                    "DECRYPT", "DIGEST", "SIGN", "SIGN_RECOVER", "VERIFY", "VERIFY_RECOVER",
                    "GENERATE", "GENERATE_KEY_PAIR", "WRAP", "UNWRAP", "DERIVE", "EC_F_P",
                    "EC_F_2M", "EC_ECPARAMETERS", "EC_OID", "EC_UNCOMPRESS", "EC_COMPRESS",
                    "EC_CURVENAME", "EXTENSION")),
            Map.entry("init", List.of("LIBRARY_CANT_CREATE_OS_THREADS", "OS_LOCKING_OK")),
            Map.entry("wait", List.of("DONT_BLOCK")),
            Map.entry("attribute", List.of("ARRAY_ATTRIBUTE")),
            Map.entry("otp", List.of("NEXT_OTP", "EXCLUDE_TIME", "EXCLUDE_COUNTER",
                    "EXCLUDE_CHALLENGE", "EXCLUDE_PIN", "USER_FRIENDLY_OTP")),
            Map.entry("hkdf", List.of("HKDF_SALT_NULL", "HKDF_SALT_DATA", "HKDF_SALT_KEY")),
            Map.entry("interface", List.of("INTERFACE_FORK_SAFE")),
            Map.entry("message", List.of("END_OF_MESSAGE")));

    /** Family name to (value to spec name), built once from {@link #FAMILY_FIELDS}. */
    private static final Map<String, Map<Long, String>> FAMILIES = buildFamilies();

    private static Map<String, Map<Long, String>> buildFamilies() {
        Map<String, Map<Long, String>> out = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> e : FAMILY_FIELDS.entrySet()) {
            Map<Long, String> bits = new LinkedHashMap<>();
            for (String fieldName : e.getValue()) {
                try {
                    Field f = CKF.class.getField(fieldName);
                    bits.put(f.getLong(null), ConstantNames.specName("CKF", fieldName));
                } catch (ReflectiveOperationException ex) {
                    throw new IllegalStateException("CKF." + fieldName, ex);
                }
            }
            out.put(e.getKey(), Collections.unmodifiableMap(bits));
        }
        return Map.copyOf(out);
    }

    /**
     * Spells out a flag word of one family, e.g.
     * {@code describe(6, "session")} gives {@code "CKF_RW_SESSION|CKF_SERIAL_SESSION"}. Bits that
     * the family does not define are appended as one hex value ({@code "|0x00000100"}); zero gives
     * {@code "0"}.
     *
     * @param family one of {@code slot, token, session, mechanism, init, wait, attribute, otp,
     *     hkdf, interface, message}
     * @throws IllegalArgumentException for an unknown family
     */
    public static String describe(long flags, String family) {
        Map<Long, String> bits = FAMILIES.get(family);
        if (bits == null) {
            throw new IllegalArgumentException(
                    "unknown CKF family '" + family + "', expected one of " + FAMILY_FIELDS.keySet());
        }
        if (flags == 0) {
            return "0";
        }
        List<String> parts = new ArrayList<>();
        long rest = flags;
        for (Map.Entry<Long, String> b : bits.entrySet()) {
            long bit = b.getKey();
            if ((flags & bit) == bit) {
                parts.add(b.getValue());
                rest &= ~bit;
            }
        }
        if (rest != 0) {
            parts.add(String.format(Locale.ROOT, "0x%08X", rest));
        }
        return String.join("|", parts);
    }
}
