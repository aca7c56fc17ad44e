package io.hsmkit.pkcs11.constants;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Package-private support for the {@code name(long)} methods of the constant classes: builds the
 * value-to-name table once by reflection and formats values that have no name.
 */
final class ConstantNames {

    /** The bit that marks a vendor-defined value in the CKR, CKM, CKA, CKK and CKO spaces. */
    static final long VENDOR_DEFINED_BIT = 0x80000000L;

    private ConstantNames() {
    }

    /**
     * Collects every {@code public static final long} field of {@code type} into an immutable map
     * from value to full spec name ({@code prefix + "_" + fieldName}).
     *
     * <p>When several fields share a value, a name listed in {@code preferred} (full spec names)
     * wins; if none or more than one of them is listed, the lexicographically smallest candidate
     * wins, so the result never depends on reflection order.
     */
    static Map<Long, String> build(Class<?> type, String prefix, String... preferred) {
        Set<String> pref = Set.of(preferred);
        Map<Long, String> names = new HashMap<>();
        for (Field f : type.getDeclaredFields()) {
            int m = f.getModifiers();
            if (!Modifier.isPublic(m) || !Modifier.isStatic(m) || !Modifier.isFinal(m)
                    || f.getType() != long.class) {
                continue;
            }
            long value;
            try {
                value = f.getLong(null);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("cannot read " + type.getName() + "." + f.getName(), e);
            }
            String spec = specName(prefix, f.getName());
            names.merge(value, spec, (a, b) -> better(a, b, pref));
        }
        return Map.copyOf(names);
    }

    /** Maps a Java field name back to the spec name: {@code _3DES} style names lose the underscore. */
    static String specName(String prefix, String fieldName) {
        String n = fieldName;
        if (n.length() > 1 && n.charAt(0) == '_' && Character.isDigit(n.charAt(1))) {
            n = n.substring(1);
        }
        return prefix + "_" + n;
    }

    private static String better(String a, String b, Set<String> preferred) {
        boolean pa = preferred.contains(a);
        boolean pb = preferred.contains(b);
        if (pa != pb) {
            return pa ? a : b;
        }
        return a.compareTo(b) <= 0 ? a : b;
    }

    /**
     * Looks {@code value} up; unknown values become {@code PREFIX_VENDOR_DEFINED+0x...} when
     * {@code vendorRange} is set and the value lies in 0x80000000..0xFFFFFFFF, otherwise
     * {@code PREFIX_0x%08X}.
     */
    static String lookup(Map<Long, String> names, String prefix, boolean vendorRange, long value) {
        String n = names.get(value);
        if (n != null) {
            return n;
        }
        if (vendorRange && value >= VENDOR_DEFINED_BIT && value <= 0xFFFFFFFFL) {
            return prefix + "_VENDOR_DEFINED+0x"
                    + Long.toHexString(value - VENDOR_DEFINED_BIT).toUpperCase(Locale.ROOT);
        }
        return String.format(Locale.ROOT, "%s_0x%08X", prefix, value);
    }
}
