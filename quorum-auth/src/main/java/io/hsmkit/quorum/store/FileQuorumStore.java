package io.hsmkit.quorum.store;

import io.hsmkit.quorum.ApprovalToken;
import io.hsmkit.quorum.Officer;
import io.hsmkit.quorum.Service;
import io.hsmkit.quorum.SignatureScheme;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A {@link QuorumStore} in a directory, one small text file per kind of state, that survives a crash at
 * any point:
 * <ul>
 *   <li>every change rewrites its file to a temporary file, {@code fsync}s it, renames it over the old
 *       file atomically and {@code fsync}s the directory, so a reader sees the old or the new file, never
 *       half of one, and what a method returned is on disk;</li>
 *   <li>every operation runs under this object's monitor and an exclusive {@link FileLock} on
 *       {@code .lock} and re-reads the file it changes, so {@link #consume(byte[])} is an atomic
 *       test-and-set across threads and across processes;</li>
 *   <li>{@link #consume(byte[])} returns {@code true} only after the consumed set including the nonce is
 *       durable: the action it authorises runs after that, never before.</li>
 * </ul>
 * Rewriting a whole file per change is O(n); fine for officers, values and pending tokens. Consumed
 * nonces can be pruned ({@link #pruneConsumed}); the audit chain grows (segmenting it is left for later).
 */
public final class FileQuorumStore implements QuorumStore {
    private static final String OFFICERS = "officers.txt";
    private static final String VALUES = "values.txt";
    private static final String CONSUMED = "consumed.txt";
    private static final String PENDING = "pending.txt";
    private static final String AUDIT = "audit.txt";
    private static final String TMP_PREFIX = ".tmp-";

    private final Path dir;
    private final FileChannel lockChannel;

    public FileQuorumStore(Path dir) {
        this.dir = dir;
        try {
            Files.createDirectories(dir);
            lockChannel = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            locked(() -> {
                // Leftovers of a crash between write and rename were never visible; drop them.
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, TMP_PREFIX + "*")) {
                    for (Path p : ds) {
                        Files.deleteIfExists(p);
                    }
                }
                return null;
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open quorum store " + dir, e);
        }
    }

    public Path directory() {
        return dir;
    }

    // ---- officers: "id<TAB>scheme<TAB>base64(X.509 public key)"

    @Override
    public Map<String, Officer> officers() {
        return locked(this::readOfficers);
    }

    private Map<String, Officer> readOfficers() throws IOException {
        Map<String, Officer> m = new LinkedHashMap<>();
        for (String line : readLines(OFFICERS)) {
            String[] f = line.split("\t", -1);
            if (f.length != 3) {
                throw corrupt(OFFICERS, line);
            }
            SignatureScheme scheme = SignatureScheme.fromJcaName(f[1]);
            try {
                m.put(f[0], new Officer(f[0], scheme.decodePublicKey(Base64.getDecoder().decode(f[2])), scheme));
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                throw new IllegalStateException("corrupt officer record in " + dir.resolve(OFFICERS) + ": " + line, e);
            }
        }
        return m;
    }

    private void writeOfficers(Map<String, Officer> m) throws IOException {
        List<String> lines = new ArrayList<>();
        for (Officer o : m.values()) {
            lines.add(o.id() + "\t" + o.scheme().jcaName() + "\t" + Base64.getEncoder().encodeToString(o.publicKey().getEncoded()));
        }
        writeLines(OFFICERS, lines);
    }

    @Override
    public void putOfficer(Officer officer) {
        locked(() -> {
            Map<String, Officer> m = readOfficers();
            m.put(officer.id(), officer);
            writeOfficers(m);
            return null;
        });
    }

    @Override
    public boolean removeOfficer(String id) {
        return locked(() -> {
            Map<String, Officer> m = readOfficers();
            if (m.remove(id) == null) {
                return false;
            }
            writeOfficers(m);
            return true;
        });
    }

    // ---- values: "service=k"

    @Override
    public Map<Service, Integer> values() {
        return locked(this::readValues);
    }

    private Map<Service, Integer> readValues() throws IOException {
        Map<Service, Integer> m = new EnumMap<>(Service.class);
        for (String line : readLines(VALUES)) {
            int eq = line.indexOf('=');
            if (eq < 0) {
                throw corrupt(VALUES, line);
            }
            m.put(Service.fromWireName(line.substring(0, eq)), Integer.parseInt(line.substring(eq + 1)));
        }
        return m;
    }

    @Override
    public void setValue(Service service, int k) {
        locked(() -> {
            Map<Service, Integer> m = readValues();
            m.put(service, k);
            List<String> lines = new ArrayList<>();
            m.forEach((s, v) -> lines.add(s.wireName() + "=" + v));
            writeLines(VALUES, lines);
            return null;
        });
    }

    // ---- consumed nonces: "hex nonce" or "hex nonce<TAB>creation epoch seconds" per line

    private Map<String, Long> readConsumed() throws IOException {
        Map<String, Long> m = new LinkedHashMap<>();
        for (String line : readLines(CONSUMED)) {
            int tab = line.indexOf('\t');
            m.put(tab < 0 ? line : line.substring(0, tab), tab < 0 ? Long.MAX_VALUE : Long.parseLong(line.substring(tab + 1)));
        }
        return m;
    }

    private void writeConsumed(Map<String, Long> m) throws IOException {
        List<String> lines = new ArrayList<>();
        m.forEach((hex, created) -> lines.add(created == Long.MAX_VALUE ? hex : hex + "\t" + created));
        writeLines(CONSUMED, lines);
    }

    @Override
    public boolean consume(byte[] nonce, Instant created) {
        String hex = HexFormat.of().formatHex(nonce);
        return locked(() -> {
            Map<String, Long> consumed = readConsumed();
            if (consumed.putIfAbsent(hex, created.equals(Instant.MAX) ? Long.MAX_VALUE : created.getEpochSecond()) != null) {
                return false;
            }
            // Durable before we answer true: the caller acts only after this returns.
            writeConsumed(consumed);
            return true;
        });
    }

    @Override
    public boolean isConsumed(byte[] nonce) {
        String hex = HexFormat.of().formatHex(nonce);
        return locked(() -> readConsumed().containsKey(hex));
    }

    @Override
    public int pruneConsumed(Instant floor) {
        return locked(() -> {
            Map<String, Long> consumed = readConsumed();
            int before = consumed.size();
            consumed.values().removeIf(c -> c < floor.getEpochSecond());
            if (consumed.size() != before) {
                writeConsumed(consumed);
            }
            return before - consumed.size();
        });
    }

    // ---- named records: records-<kind>.txt, "key<TAB>value" per line

    private Map<String, String> readRecords(String kind) throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : readLines("records-" + kind + ".txt")) {
            int tab = line.indexOf('\t');
            if (tab < 0) {
                throw corrupt("records-" + kind + ".txt", line);
            }
            m.put(line.substring(0, tab), line.substring(tab + 1));
        }
        return m;
    }

    private void writeRecords(String kind, Map<String, String> m) throws IOException {
        List<String> lines = new ArrayList<>();
        m.forEach((k, v) -> lines.add(k + "\t" + v));
        writeLines("records-" + kind + ".txt", lines);
    }

    @Override
    public Map<String, String> records(String kind) {
        QuorumStore.checkRecord(kind, "x", null);
        return locked(() -> Map.copyOf(readRecords(kind)));
    }

    @Override
    public void putRecord(String kind, String key, String value) {
        QuorumStore.checkRecord(kind, key, value);
        locked(() -> {
            Map<String, String> m = readRecords(kind);
            m.put(key, value);
            writeRecords(kind, m);
            return null;
        });
    }

    @Override
    public boolean removeRecord(String kind, String key) {
        QuorumStore.checkRecord(kind, key, null);
        return locked(() -> {
            Map<String, String> m = readRecords(kind);
            if (m.remove(key) == null) {
                return false;
            }
            writeRecords(kind, m);
            return true;
        });
    }

    // ---- pending tokens: base64 of ApprovalToken.toBytes() per line

    @Override
    public List<ApprovalToken> pending() {
        return locked(() -> List.copyOf(readPending().values()));
    }

    private Map<String, ApprovalToken> readPending() throws IOException {
        return readMap(PENDING, line -> ApprovalToken.fromBytes(Base64.getDecoder().decode(line)), ApprovalToken::id);
    }

    private void writePending(Map<String, ApprovalToken> m) throws IOException {
        List<String> lines = new ArrayList<>();
        m.values().forEach(t -> lines.add(Base64.getEncoder().encodeToString(t.toBytes())));
        writeLines(PENDING, lines);
    }

    @Override
    public void putPending(ApprovalToken token) {
        locked(() -> {
            Map<String, ApprovalToken> m = readPending();
            m.put(token.id(), token);
            writePending(m);
            return null;
        });
    }

    @Override
    public void removePending(String tokenId) {
        locked(() -> {
            Map<String, ApprovalToken> m = readPending();
            if (m.remove(tokenId) != null) {
                writePending(m);
            }
            return null;
        });
    }

    // ---- audit: index, time, kind, base64(details), hex prev, hex hash, hex mac; TAB separated

    @Override
    public AuditRecord appendAudit(Function<AuditRecord, AuditRecord> next) {
        return locked(() -> {
            List<AuditRecord> existing = readAudit();
            AuditRecord r = next.apply(existing.isEmpty() ? null : existing.get(existing.size() - 1));
            List<String> lines = new ArrayList<>(readLines(AUDIT));
            HexFormat hx = HexFormat.of();
            lines.add(r.index() + "\t" + r.time() + "\t" + r.kind() + "\t"
                    + Base64.getEncoder().encodeToString(r.details().getBytes(StandardCharsets.UTF_8)) + "\t"
                    + hx.formatHex(r.prevHash()) + "\t" + hx.formatHex(r.hash()) + "\t" + hx.formatHex(r.mac()));
            writeLines(AUDIT, lines);
            return r;
        });
    }

    @Override
    public List<AuditRecord> audit() {
        return locked(this::readAudit);
    }

    private List<AuditRecord> readAudit() throws IOException {
        {
            List<AuditRecord> out = new ArrayList<>();
            HexFormat hx = HexFormat.of();
            for (String line : readLines(AUDIT)) {
                String[] f = line.split("\t", -1);
                if (f.length != 7) {
                    throw corrupt(AUDIT, line);
                }
                try {
                    out.add(new AuditRecord(Long.parseLong(f[0]), Instant.parse(f[1]), AuditKind.valueOf(f[2]),
                            new String(Base64.getDecoder().decode(f[3]), StandardCharsets.UTF_8),
                            hx.parseHex(f[4]), hx.parseHex(f[5]), hx.parseHex(f[6])));
                } catch (RuntimeException e) {
                    throw new IllegalStateException("corrupt audit record in " + dir.resolve(AUDIT) + ": " + line, e);
                }
            }
            return out;
        }
    }

    @Override
    public void close() {
        try {
            lockChannel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- plumbing

    private interface IoSupplier<T> {
        T get() throws IOException;
    }

    private synchronized <T> T locked(IoSupplier<T> body) {
        try (FileLock lock = lockChannel.lock()) {
            return body.get();
        } catch (IOException e) {
            throw new UncheckedIOException("quorum store " + dir, e);
        }
    }

    private <V> Map<String, V> readMap(String name, Function<String, V> parse, Function<V, String> key) throws IOException {
        Map<String, V> m = new LinkedHashMap<>();
        for (String line : readLines(name)) {
            V v = parse.apply(line);
            m.put(key.apply(v), v);
        }
        return m;
    }

    private List<String> readLines(String name) throws IOException {
        Path p = dir.resolve(name);
        if (!Files.exists(p)) {
            return List.of();
        }
        return Files.readAllLines(p, StandardCharsets.UTF_8).stream().filter(l -> !l.isEmpty()).toList();
    }

    /** Temp file, fsync, atomic rename, fsync of the directory. */
    private void writeLines(String name, List<String> lines) throws IOException {
        Path target = dir.resolve(name);
        Path tmp = Files.createTempFile(dir, TMP_PREFIX + name, "");
        StringBuilder sb = new StringBuilder();
        lines.forEach(l -> sb.append(l).append('\n'));
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8));
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // Some platforms cannot open a directory for fsync; the rename is still atomic there.
        }
    }

    private IllegalStateException corrupt(String name, String line) {
        return new IllegalStateException("corrupt line in " + dir.resolve(name) + ": " + line);
    }
}
