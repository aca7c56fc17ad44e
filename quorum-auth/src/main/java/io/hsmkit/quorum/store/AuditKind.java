package io.hsmkit.quorum.store;

/** What an audit record reports (issue 5: "every request, approval, use and refusal"). */
public enum AuditKind {
    REQUEST, APPROVAL, USE, REFUSAL
}
