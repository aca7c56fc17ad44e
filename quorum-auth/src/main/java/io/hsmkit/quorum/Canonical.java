package io.hsmkit.quorum;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The one canonical encoding used for actions, tokens and registration challenges: every field is a
 * 4-byte big-endian length followed by its bytes (strings as UTF-8), integers are fixed width. Because
 * every field carries its length, no two different field lists encode to the same bytes
 * ({@code "ab","c"} and {@code "a","bc"} differ).
 */
final class Canonical {
    private Canonical() {}

    static final class Writer {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Writer bytes(byte[] b) {
            int4(b.length);
            out.writeBytes(b);
            return this;
        }

        Writer string(String s) {
            return bytes(s.getBytes(StandardCharsets.UTF_8));
        }

        Writer int4(int v) {
            out.writeBytes(ByteBuffer.allocate(4).putInt(v).array());
            return this;
        }

        Writer int8(long v) {
            out.writeBytes(ByteBuffer.allocate(8).putLong(v).array());
            return this;
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }
    }

    static final class Reader {
        private final ByteBuffer in;

        Reader(byte[] data) {
            in = ByteBuffer.wrap(data);
        }

        byte[] bytes() {
            int n = int4();
            if (n < 0 || n > in.remaining()) {
                throw new IllegalArgumentException("field length " + n + " exceeds the remaining " + in.remaining() + " bytes");
            }
            byte[] b = new byte[n];
            in.get(b);
            return b;
        }

        String string() {
            return new String(bytes(), StandardCharsets.UTF_8);
        }

        int int4() {
            need(4);
            return in.getInt();
        }

        long int8() {
            need(8);
            return in.getLong();
        }

        void end() {
            if (in.hasRemaining()) {
                throw new IllegalArgumentException(in.remaining() + " trailing bytes after the last field");
            }
        }

        private void need(int n) {
            if (in.remaining() < n) {
                throw new IllegalArgumentException("truncated: need " + n + " bytes, have " + in.remaining());
            }
        }
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    static String hex(byte[] b) {
        return java.util.HexFormat.of().formatHex(b);
    }
}
