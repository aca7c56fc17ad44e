package io.hsmkit.quorum.store;

import io.hsmkit.quorum.ApprovalToken;
import io.hsmkit.quorum.Officer;
import io.hsmkit.quorum.Service;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** A {@link QuorumStore} in memory: for tests and for callers who persist elsewhere. Thread-safe. */
public final class InMemoryQuorumStore implements QuorumStore {
    private final Map<String, Officer> officers = new LinkedHashMap<>();
    private final Map<Service, Integer> values = new EnumMap<>(Service.class);
    private final Map<String, Instant> consumed = new ConcurrentHashMap<>();
    private final Map<String, Map<String, String>> records = new LinkedHashMap<>();
    private final Map<String, ApprovalToken> pending = new LinkedHashMap<>();
    private final List<AuditRecord> audit = new ArrayList<>();

    @Override
    public synchronized Map<String, Officer> officers() {
        return Map.copyOf(officers);
    }

    @Override
    public synchronized void putOfficer(Officer officer) {
        officers.put(officer.id(), officer);
    }

    @Override
    public synchronized boolean removeOfficer(String id) {
        return officers.remove(id) != null;
    }

    @Override
    public synchronized Map<Service, Integer> values() {
        return Map.copyOf(values);
    }

    @Override
    public synchronized void setValue(Service service, int k) {
        values.put(service, k);
    }

    @Override
    public boolean consume(byte[] nonce, Instant created) {
        // putIfAbsent on a concurrent map is the atomic test-and-set: exactly one caller sees null.
        return consumed.putIfAbsent(HexFormat.of().formatHex(nonce), created) == null;
    }

    @Override
    public boolean isConsumed(byte[] nonce) {
        return consumed.containsKey(HexFormat.of().formatHex(nonce));
    }

    @Override
    public int pruneConsumed(Instant floor) {
        int before = consumed.size();
        consumed.values().removeIf(c -> c.isBefore(floor));
        return before - consumed.size();
    }

    @Override
    public synchronized Map<String, String> records(String kind) {
        return Map.copyOf(records.getOrDefault(kind, Map.of()));
    }

    @Override
    public synchronized void putRecord(String kind, String key, String value) {
        QuorumStore.checkRecord(kind, key, value);
        records.computeIfAbsent(kind, k -> new LinkedHashMap<>()).put(key, value);
    }

    @Override
    public synchronized boolean removeRecord(String kind, String key) {
        Map<String, String> m = records.get(kind);
        return m != null && m.remove(key) != null;
    }

    @Override
    public synchronized List<ApprovalToken> pending() {
        return List.copyOf(pending.values());
    }

    @Override
    public synchronized void putPending(ApprovalToken token) {
        pending.put(token.id(), token);
    }

    @Override
    public synchronized void removePending(String tokenId) {
        pending.remove(tokenId);
    }

    @Override
    public synchronized AuditRecord appendAudit(java.util.function.Function<AuditRecord, AuditRecord> next) {
        AuditRecord r = next.apply(audit.isEmpty() ? null : audit.get(audit.size() - 1));
        audit.add(r);
        return r;
    }

    @Override
    public synchronized List<AuditRecord> audit() {
        return List.copyOf(audit);
    }

    @Override
    public void close() {
        // nothing to release
    }
}
