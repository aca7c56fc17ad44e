package io.hsmkit.quorum;

import java.util.Locale;

/** The services that carry a quorum value (issue 5, "Quorum values per service"). */
public enum Service {
    /** Create, delete, change PIN or role of any user, crypto user or officer; officer registration. */
    USER("user"),
    /** Change any quorum value. */
    QUORUM("quorum"),
    /** Delete, export or wrap out, import, change attributes of a key. */
    KEY_MANAGEMENT("key-management"),
    /** Re-initialise, zeroise. */
    TOKEN("token");

    private final String wireName;

    Service(String wireName) {
        this.wireName = wireName;
    }

    /** The name used in canonical encodings, files and messages. */
    public String wireName() {
        return wireName;
    }

    public static Service fromWireName(String name) {
        for (Service s : values()) {
            if (s.wireName.equals(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown quorum service '" + name + "' (user, quorum, key-management, token)");
    }

    @Override
    public String toString() {
        return wireName.toLowerCase(Locale.ROOT);
    }
}
