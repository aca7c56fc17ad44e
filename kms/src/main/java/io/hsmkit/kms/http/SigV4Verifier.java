package io.hsmkit.kms.http;

import io.hsmkit.kms.Caller;
import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import io.hsmkit.kms.access.CredentialLookup;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Verifies AWS Signature Version 4 ({@code Authorization: AWS4-HMAC-SHA256 ...}) on a request to
 * the KMS endpoint, as AWS does, and names the principal behind the access key.
 *
 * <p>What is checked, in this order, with the error AWS gives for each:
 * <ol>
 *   <li>an {@code Authorization} header: else {@code MissingAuthenticationTokenException};
 *   <li>its form ({@code AWS4-HMAC-SHA256 Credential=AKID/yyyyMMdd/region/kms/aws4_request,
 *       SignedHeaders=a;b, Signature=hex}), an {@code X-Amz-Date} in ISO-8601 basic form, and
 *       {@code host} and {@code x-amz-date} among the signed headers: else
 *       {@code IncompleteSignatureException};
 *   <li>the credential scope (service {@code kms}, this endpoint's region, {@code aws4_request},
 *       the date of {@code X-Amz-Date}) and the clock ({@code X-Amz-Date} within 5 minutes of
 *       the server's): else {@code InvalidSignatureException} ("Signature expired: ..." for the
 *       clock, in AWS's words);
 *   <li>the access key id, through {@link CredentialLookup}: else
 *       {@code UnrecognizedClientException};
 *   <li>the signature over the canonical request (method, URI, query, the signed headers, the
 *       SHA-256 of the body as received; an {@code x-amz-content-sha256} header must equal it):
 *       else {@code InvalidSignatureException}. The comparison is constant-time.
 * </ol>
 *
 * <p>HMAC-SHA256 runs in software, in this class (on {@link MessageDigest}), not in the token:
 * a SigV4 secret is a shared secret that {@link CredentialLookup} has already unwrapped into the
 * JVM, so an HMAC in the token would protect nothing more and cost four token calls per request;
 * doing it here lets every intermediate key (the secret's bytes, the HMAC pads, the derived
 * signing keys) be wiped after use, which {@code javax.crypto.spec.SecretKeySpec} does not allow.
 *
 * <p>Thread-safe and stateless apart from its lookup; presigned URLs (query-string
 * authentication) and session tokens are not supported.
 */
public final class SigV4Verifier {
  /** The only algorithm AWS KMS accepts. */
  public static final String ALGORITHM = "AWS4-HMAC-SHA256";
  /** How far {@code X-Amz-Date} may be from the server's clock, either way, as at AWS. */
  public static final Duration MAX_SKEW = Duration.ofMinutes(5);
  static final String SERVICE = "kms";
  static final String TERMINATOR = "aws4_request";
  static final String SIGNATURE_MISMATCH = "The request signature we calculated does not match the signature you provided. "
      + "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
  static final String UNRECOGNIZED = "The security token included in the request is invalid.";

  static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
  private static final HexFormat HEX = HexFormat.of();

  private final CredentialLookup credentials;
  private final String region;
  private final Clock clock;

  /**
   * @param credentials where access key ids are looked up (the KMS service's principals)
   * @param region the region this endpoint serves (for example {@code us-east-1}); clients must
   *     sign for it
   * @param clock the server's clock (tests pass a fixed one)
   */
  public SigV4Verifier(CredentialLookup credentials, String region, Clock clock) {
    this.credentials = Objects.requireNonNull(credentials, "credentials");
    this.region = Objects.requireNonNull(region, "region");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  public String region() {
    return region;
  }

  /** The clock requests are checked against (the endpoint sends it as its {@code Date}). */
  public Clock clock() {
    return clock;
  }

  /**
   * A request as received: method, the path and query exactly as on the wire (percent-encoded;
   * query without {@code ?}, null for none), the headers by name (any case; several values of
   * one name in order) and the body bytes.
   */
  public record SignedRequest(String method, String rawPath, String rawQuery, Map<String, List<String>> headers, byte[] body) {
    public SignedRequest {
      Objects.requireNonNull(method, "method");
      rawPath = rawPath == null || rawPath.isEmpty() ? "/" : rawPath;
      Map<String, List<String>> lower = new TreeMap<>();
      for (Map.Entry<String, List<String>> e : headers.entrySet()) {
        lower.computeIfAbsent(e.getKey().toLowerCase(Locale.ROOT), k -> new ArrayList<>()).addAll(e.getValue());
      }
      lower.replaceAll((k, v) -> List.copyOf(v));
      headers = java.util.Collections.unmodifiableMap(lower);
      body = body == null ? new byte[0] : body;
    }

    /** The first value of a header (name in any case), or null. */
    public String header(String name) {
      List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
      return v == null || v.isEmpty() ? null : v.get(0);
    }
  }

  /** The parts of an {@code Authorization} header. */
  record Authorization(String accessKeyId, String date, String region, String service, String terminator,
      List<String> signedHeaders, String signature) {}

  /**
   * Verifies {@code request} and returns its principal seen on the wire from {@code sourceIp}
   * with {@code userAgent}.
   *
   * @throws KmsException with MISSING_AUTHENTICATION_TOKEN, INCOMPLETE_SIGNATURE,
   *     INVALID_SIGNATURE or UNRECOGNIZED_CLIENT, as described on the class
   */
  public Caller verify(SignedRequest request, String sourceIp, String userAgent) {
    String header = request.header("authorization");
    if (header == null || header.isBlank()) {
      throw new KmsException(KmsError.MISSING_AUTHENTICATION_TOKEN, "Missing Authentication Token");
    }
    Authorization auth = parseAuthorization(header);
    String amzDate = request.header("x-amz-date");
    if (amzDate == null) {
      throw new KmsException(KmsError.INCOMPLETE_SIGNATURE, "Authorization header requires existence of a 'X-Amz-Date' header.");
    }
    Instant signedAt;
    try {
      signedAt = Instant.from(AMZ_DATE.parse(amzDate.trim()));
    } catch (DateTimeParseException e) {
      throw new KmsException(KmsError.INCOMPLETE_SIGNATURE, "Date must be in ISO-8601 'basic format'. Got '" + printable(amzDate)
          + "'. See http://en.wikipedia.org/wiki/ISO_8601");
    }
    if (!auth.signedHeaders().contains("host")) {
      throw new KmsException(KmsError.INCOMPLETE_SIGNATURE, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    }
    if (!auth.signedHeaders().contains("x-amz-date")) {
      throw new KmsException(KmsError.INCOMPLETE_SIGNATURE, "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
    }
    checkScope(auth, amzDate.trim());
    checkClock(signedAt);

    String bodyHash = HEX.formatHex(sha256(request.body()));
    String declared = request.header("x-amz-content-sha256");
    // The signature covers the declared hash; the body must be the one it declares.
    String payloadHash = declared != null ? declared.trim() : bodyHash;

    Optional<CredentialLookup.Credential> found = credentials.find(auth.accessKeyId());
    if (found.isEmpty()) {
      throw new KmsException(KmsError.UNRECOGNIZED_CLIENT, UNRECOGNIZED);
    }
    byte[] expected;
    Caller principal;
    try (CredentialLookup.Credential credential = found.get()) {
      principal = credential.principal();
      String canonical = canonicalRequest(request, auth.signedHeaders(), payloadHash);
      String toSign = stringToSign(amzDate.trim(), scope(auth.date(), auth.region(), auth.service()), canonical);
      expected = signature(credential.secretAccessKey(), auth.date(), auth.region(), auth.service(), toSign);
    }
    byte[] given = decodeHex(auth.signature());
    boolean match = MessageDigest.isEqual(expected, given);
    match &= MessageDigest.isEqual(payloadHash.getBytes(StandardCharsets.US_ASCII), bodyHash.getBytes(StandardCharsets.US_ASCII));
    if (!match) {
      throw new KmsException(KmsError.INVALID_SIGNATURE, SIGNATURE_MISMATCH);
    }
    return principal.withWire(auth.accessKeyId(), sourceIp, userAgent);
  }

  private void checkScope(Authorization a, String amzDate) {
    if (!TERMINATOR.equals(a.terminator())) {
      throw new KmsException(KmsError.INVALID_SIGNATURE, "Credential should be scoped with a valid terminator: 'aws4_request', not '"
          + printable(a.terminator()) + "'.");
    }
    if (!SERVICE.equals(a.service())) {
      throw new KmsException(KmsError.INVALID_SIGNATURE, "Credential should be scoped to correct service: 'kms'. ");
    }
    if (!region.equals(a.region())) {
      throw new KmsException(KmsError.INVALID_SIGNATURE, "Credential should be scoped to a valid region, not '" + printable(a.region()) + "'. ");
    }
    if (!amzDate.startsWith(a.date() + "T")) {
      throw new KmsException(KmsError.INVALID_SIGNATURE, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '"
          + printable(a.date()) + "' != '" + amzDate.substring(0, Math.min(8, amzDate.length())) + "', from '" + amzDate + "'.");
    }
  }

  private void checkClock(Instant signedAt) {
    Instant now = clock.instant();
    if (signedAt.isBefore(now.minus(MAX_SKEW))) {
      throw new KmsException(KmsError.INVALID_SIGNATURE, "Signature expired: " + AMZ_DATE.format(signedAt) + " is now earlier than "
          + AMZ_DATE.format(now.minus(MAX_SKEW)) + " (" + AMZ_DATE.format(now) + " - 5 min.)");
    }
    if (signedAt.isAfter(now.plus(MAX_SKEW))) {
      throw new KmsException(KmsError.INVALID_SIGNATURE, "Signature not yet current: " + AMZ_DATE.format(signedAt) + " is still later than "
          + AMZ_DATE.format(now.plus(MAX_SKEW)) + " (" + AMZ_DATE.format(now) + " + 5 min.)");
    }
  }

  /** Parses {@code AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...}. */
  static Authorization parseAuthorization(String header) {
    String h = header.trim();
    int sp = h.indexOf(' ');
    String algorithm = sp < 0 ? h : h.substring(0, sp);
    if (!ALGORITHM.equals(algorithm)) {
      throw new KmsException(KmsError.INCOMPLETE_SIGNATURE, "Unsupported AWS 'algorithm': '" + printable(algorithm)
          + "'. The only supported algorithm is " + ALGORITHM + ".");
    }
    Map<String, String> parts = new LinkedHashMap<>();
    for (String p : (sp < 0 ? "" : h.substring(sp + 1)).split(",")) {
      String part = p.trim();
      if (part.isEmpty()) {
        continue;
      }
      int eq = part.indexOf('=');
      if (eq <= 0 || parts.putIfAbsent(part.substring(0, eq).trim(), part.substring(eq + 1).trim()) != null) {
        throw new KmsException(KmsError.INCOMPLETE_SIGNATURE, "Authorization header is malformed: '" + printable(part) + "' is not a single 'key=value' pair.");
      }
    }
    List<String> missing = new ArrayList<>();
    for (String k : new String[] {"Credential", "Signature", "SignedHeaders"}) {
      String v = parts.get(k);
      if (v == null || v.isEmpty()) {
        missing.add("Authorization header requires '" + k + "' parameter.");
      }
    }
    if (!missing.isEmpty()) {
      throw new KmsException(KmsError.INCOMPLETE_SIGNATURE, String.join(" ", missing) + " Authorization=" + ALGORITHM);
    }
    String[] cred = parts.get("Credential").split("/", -1);
    if (cred.length != 5 || Arrays.stream(cred).anyMatch(String::isEmpty)) {
      throw new KmsException(KmsError.INCOMPLETE_SIGNATURE, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '"
          + printable(parts.get("Credential")) + "'");
    }
    List<String> signed = List.of(parts.get("SignedHeaders").toLowerCase(Locale.ROOT).split(";", -1));
    if (signed.stream().anyMatch(String::isEmpty)) {
      throw new KmsException(KmsError.INCOMPLETE_SIGNATURE, "SignedHeaders is malformed: '" + printable(parts.get("SignedHeaders")) + "'");
    }
    return new Authorization(cred[0], cred[1], cred[2], cred[3], cred[4], signed, parts.get("Signature"));
  }

  /**
   * The canonical request of SigV4: method, canonical URI (the wire path URI-encoded once more,
   * as for every AWS service but S3), canonical query, the signed headers (lower-case names,
   * trimmed values with inner runs of spaces collapsed, several values joined by commas), the
   * signed header list, and the payload hash.
   */
  static String canonicalRequest(SignedRequest r, List<String> signedHeaders, String payloadHash) {
    StringBuilder b = new StringBuilder();
    b.append(r.method()).append('\n');
    b.append(uriEncode(r.rawPath(), false)).append('\n');
    b.append(canonicalQuery(r.rawQuery())).append('\n');
    for (String name : signedHeaders) {
      List<String> values = r.headers().getOrDefault(name, List.of());
      b.append(name).append(':');
      for (int i = 0; i < values.size(); i++) {
        if (i > 0) {
          b.append(',');
        }
        b.append(values.get(i).trim().replaceAll(" +", " "));
      }
      b.append('\n');
    }
    b.append('\n');
    b.append(String.join(";", signedHeaders)).append('\n');
    b.append(payloadHash);
    return b.toString();
  }

  /** Query parameters decoded, re-encoded as SigV4 says, sorted by name then value. */
  static String canonicalQuery(String rawQuery) {
    if (rawQuery == null || rawQuery.isEmpty()) {
      return "";
    }
    List<String[]> params = new ArrayList<>();
    for (String p : rawQuery.split("&")) {
      if (p.isEmpty()) {
        continue;
      }
      int eq = p.indexOf('=');
      String name = eq < 0 ? p : p.substring(0, eq);
      String value = eq < 0 ? "" : p.substring(eq + 1);
      params.add(new String[] {uriEncode(percentDecode(name), true), uriEncode(percentDecode(value), true)});
    }
    params.sort((a, c) -> a[0].equals(c[0]) ? a[1].compareTo(c[1]) : a[0].compareTo(c[0]));
    StringBuilder b = new StringBuilder();
    for (String[] p : params) {
      if (b.length() > 0) {
        b.append('&');
      }
      b.append(p[0]).append('=').append(p[1]);
    }
    return b.toString();
  }

  static String scope(String date, String region, String service) {
    return date + "/" + region + "/" + service + "/" + TERMINATOR;
  }

  static String stringToSign(String amzDate, String scope, String canonicalRequest) {
    return ALGORITHM + "\n" + amzDate + "\n" + scope + "\n" + HEX.formatHex(sha256(canonicalRequest.getBytes(StandardCharsets.UTF_8)));
  }

  /**
   * The signature bytes: HMAC-SHA256 over {@code stringToSign} with the key derived from the
   * secret ({@code "AWS4" + secret}, then date, region, service, {@code aws4_request}). Every
   * intermediate key is wiped; the secret itself is the caller's to wipe.
   */
  static byte[] signature(char[] secret, String date, String region, String service, String stringToSign) {
    byte[] k = secretKeyBytes(secret);
    try {
      byte[] kDate = hmac(k, date);
      byte[] kRegion = hmac(kDate, region);
      Arrays.fill(kDate, (byte) 0);
      byte[] kService = hmac(kRegion, service);
      Arrays.fill(kRegion, (byte) 0);
      byte[] kSigning = hmac(kService, TERMINATOR);
      Arrays.fill(kService, (byte) 0);
      try {
        return hmac(kSigning, stringToSign);
      } finally {
        Arrays.fill(kSigning, (byte) 0);
      }
    } finally {
      Arrays.fill(k, (byte) 0);
    }
  }

  /** {@code "AWS4" + secret} in UTF-8, without making a String of the secret. */
  private static byte[] secretKeyBytes(char[] secret) {
    ByteBuffer enc = StandardCharsets.UTF_8.encode(CharBuffer.wrap(secret));
    byte[] out = new byte[4 + enc.remaining()];
    out[0] = 'A';
    out[1] = 'W';
    out[2] = 'S';
    out[3] = '4';
    enc.get(out, 4, enc.remaining());
    if (enc.hasArray()) {
      Arrays.fill(enc.array(), (byte) 0);
    }
    return out;
  }

  private static byte[] hmac(byte[] key, String data) {
    return hmacSha256(key, data.getBytes(StandardCharsets.UTF_8));
  }

  /** HMAC-SHA256 (RFC 2104) on {@link MessageDigest}, wiping its pads. */
  static byte[] hmacSha256(byte[] key, byte[] data) {
    MessageDigest md = sha256Digest();
    byte[] k = key.length > 64 ? md.digest(key) : key;
    byte[] pad = new byte[64];
    try {
      for (int i = 0; i < 64; i++) {
        pad[i] = (byte) ((i < k.length ? k[i] : 0) ^ 0x36);
      }
      md.update(pad);
      md.update(data);
      byte[] inner = md.digest();
      for (int i = 0; i < 64; i++) {
        pad[i] = (byte) ((i < k.length ? k[i] : 0) ^ 0x5c);
      }
      md.update(pad);
      md.update(inner);
      return md.digest();
    } finally {
      Arrays.fill(pad, (byte) 0);
      if (k != key) {
        Arrays.fill(k, (byte) 0);
      }
    }
  }

  static byte[] sha256(byte[] data) {
    return sha256Digest().digest(data);
  }

  private static MessageDigest sha256Digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /** URI encoding as SigV4 defines it: unreserved characters kept, everything else %XX (upper case). */
  static String uriEncode(String s, boolean encodeSlash) {
    StringBuilder b = new StringBuilder();
    for (byte c : s.getBytes(StandardCharsets.UTF_8)) {
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~'
          || (c == '/' && !encodeSlash)) {
        b.append((char) c);
      } else {
        b.append('%').append(Character.toUpperCase(Character.forDigit((c >> 4) & 0xF, 16))).append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
      }
    }
    return b.toString();
  }

  /** Decodes %XX escapes (a malformed escape is kept as it is); '+' stays '+'. */
  static String percentDecode(String s) {
    if (s.indexOf('%') < 0) {
      return s;
    }
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%' && i + 2 < s.length() && isHex(s.charAt(i + 1)) && isHex(s.charAt(i + 2))) {
        out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
        i += 2;
      } else {
        byte[] bs = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        out.write(bs, 0, bs.length);
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private static boolean isHex(char c) {
    return Character.digit(c, 16) >= 0;
  }

  /** A hex signature; anything that is not 64 hex digits decodes to bytes that cannot match. */
  private static byte[] decodeHex(String s) {
    if (s.length() != 64) {
      return new byte[0];
    }
    try {
      return HEX.parseHex(s.toLowerCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return new byte[0];
    }
  }

  /** Client-supplied text echoed in a message: printable ASCII only, bounded. */
  static String printable(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length() && b.length() < 128; i++) {
      char c = s.charAt(i);
      b.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return b.toString();
  }
}
