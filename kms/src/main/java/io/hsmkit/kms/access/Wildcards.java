package io.hsmkit.kms.access;

import java.util.Locale;

/**
 * IAM's wildcard matching: {@code *} matches any run of characters (also none), {@code ?} exactly
 * one; every other character stands for itself. Used for actions (case-insensitive, as IAM
 * compares action names), resources, ARNs and StringLike values (case-sensitive).
 */
final class Wildcards {
  private Wildcards() {}

  static boolean matches(String pattern, String value, boolean ignoreCase) {
    if (ignoreCase) {
      pattern = pattern.toLowerCase(Locale.ROOT);
      value = value.toLowerCase(Locale.ROOT);
    }
    // Iterative glob matching with one backtrack point: linear in practice, no regex (a policy
    // value must not be able to make the matcher blow up).
    int p = 0;
    int v = 0;
    int star = -1;
    int mark = 0;
    while (v < value.length()) {
      if (p < pattern.length() && (pattern.charAt(p) == '?' || pattern.charAt(p) == value.charAt(v))) {
        p++;
        v++;
      } else if (p < pattern.length() && pattern.charAt(p) == '*') {
        star = p++;
        mark = v;
      } else if (star >= 0) {
        p = star + 1;
        v = ++mark;
      } else {
        return false;
      }
    }
    while (p < pattern.length() && pattern.charAt(p) == '*') {
      p++;
    }
    return p == pattern.length();
  }
}
