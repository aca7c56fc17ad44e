package io.hsmkit.kms.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.std.StdScalarSerializer;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import java.io.IOException;
import java.math.BigDecimal;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The JSON of AWS JSON 1.1 as KMS uses it, shared by the endpoint and whoever implements
 * {@link KmsOperations}.
 *
 * <p>{@link #mapper()} maps AWS member names onto Java names by upper-casing the first letter
 * ({@code keyId} is {@code KeyId}), so request and response records whose component names are
 * the AWS member names lower-camel-cased need no annotations. Blobs ({@code byte[]}) are base64;
 * timestamps ({@link Instant}) are epoch seconds as a JSON number, with a fraction when there is
 * one ({@code 1700000000.123}), both ways; null members are left out of responses. Reading is
 * strict like AWS's deserializers: an unknown member, a string where a number belongs (or the
 * other way round), a timestamp given as a string, or trailing text is an error, never a guess.
 *
 * <p>A member whose AWS name starts with an acronym is the one exception to the naming rule:
 * {@code AWSAccountId} needs {@code @JsonProperty("AWSAccountId")} on its component, since
 * {@code awsAccountId} would map to {@code AwsAccountId}. A member the client sends that the
 * request record lacks is a {@code SerializationException} naming it ("Unknown member
 * 'DryRun'"), so a record should declare every member the AWS SDKs can send for its operation.
 */
public final class KmsJson {
  private KmsJson() {}

  private static final ObjectMapper MAPPER = build();

  /** The shared, configured mapper (thread-safe; do not reconfigure it). */
  public static ObjectMapper mapper() {
    return MAPPER;
  }

  private static ObjectMapper build() {
    SimpleModule epochSeconds = new SimpleModule("aws-epoch-seconds");
    epochSeconds.addSerializer(Instant.class, new EpochSecondsSerializer());
    epochSeconds.addDeserializer(Instant.class, new EpochSecondsDeserializer());
    epochSeconds.addDeserializer(byte[].class, new Base64BlobDeserializer());
    JsonMapper m = JsonMapper.builder()
        .propertyNamingStrategy(PropertyNamingStrategies.UPPER_CAMEL_CASE)
        .defaultPropertyInclusion(JsonInclude.Value.construct(JsonInclude.Include.NON_NULL, JsonInclude.Include.NON_NULL))
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS) // timestamps keep their nanoseconds
        .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY) // {"KeyId":"a","KeyId":"b"} is ambiguous: refuse it
        .disable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
        .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS) // "12" is not 12, as in AWS's deserializers
        .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
        .addModule(epochSeconds)
        .build();
    // Scalars keep their JSON type: a number or boolean is no string, a string no number.
    for (LogicalType t : new LogicalType[] {LogicalType.Textual}) {
      m.coercionConfigFor(t)
          .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
          .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
          .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    }
    for (LogicalType t : new LogicalType[] {LogicalType.Integer, LogicalType.Float, LogicalType.Boolean}) {
      m.coercionConfigFor(t)
          .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
          .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
    }
    m.coercionConfigFor(LogicalType.Integer).setCoercion(CoercionInputShape.Float, CoercionAction.Fail);
    m.coercionConfigFor(LogicalType.Boolean).setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
    return m;
  }

  /**
   * Maps a request body onto {@code type}. Errors are the caller's, as AWS names them:
   * {@code SerializationException} for an unknown member or a value of the wrong JSON type;
   * {@code ValidationException} for a value outside an enum; a {@link KmsException} thrown by the
   * record's constructor (its own validation) comes through unchanged.
   */
  public static <R> R read(JsonNode body, Class<R> type) {
    Objects.requireNonNull(type, "type");
    if (body == null || body.isNull() || body.isMissingNode()) {
      body = MAPPER.createObjectNode();
    }
    if (!body.isObject()) {
      throw new KmsException(KmsError.SERIALIZATION, "The request body must be a JSON object, not " + body.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
    }
    try {
      return MAPPER.treeToValue(body, type);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      throw toKmsException(e);
    }
  }

  /**
   * Parses a request body: a JSON object, or {@code {}} when the body is empty. Anything else
   * (malformed JSON, an array, trailing text, duplicate members) is a
   * {@code SerializationException} whose message names the position, never the content.
   */
  public static ObjectNode parseBody(byte[] body) {
    if (body.length == 0) {
      return MAPPER.createObjectNode();
    }
    JsonNode n;
    try {
      n = MAPPER.readTree(body);
    } catch (IOException e) {
      throw new KmsException(KmsError.SERIALIZATION, "The request body is not valid JSON" + location(e));
    }
    if (n == null || n.isMissingNode()) {
      return MAPPER.createObjectNode();
    }
    if (!n.isObject()) {
      throw new KmsException(KmsError.SERIALIZATION, "The request body must be a JSON object, not " + n.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
    }
    return (ObjectNode) n;
  }

  /** The body AWS sends for an error: {@code {"__type":"<name>","message":"..."}}. */
  public static byte[] errorBody(KmsError error, String message) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("__type", error.awsName());
    n.put("message", message == null ? "" : message);
    try {
      return MAPPER.writeValueAsBytes(n);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write an error body", e);
    }
  }

  /** Writes a response: {@code {}} for null, else the object through {@link #mapper()}. */
  public static byte[] write(Object response) {
    try {
      return response == null ? "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8) : MAPPER.writeValueAsBytes(response);
    } catch (JsonProcessingException e) {
      // A response the mapper cannot write is a bug of the service, not the caller's fault.
      throw new IllegalStateException("cannot write the response of type " + response.getClass().getName(), e);
    }
  }

  private static KmsException toKmsException(Exception e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof KmsException k) {
        return k; // the request type's own validation
      }
    }
    if (e instanceof UnrecognizedPropertyException u) {
      return new KmsException(KmsError.SERIALIZATION, "Unknown member '" + u.getPropertyName() + "'" + path(u));
    }
    if (e instanceof InvalidFormatException f && f.getTargetType() != null && f.getTargetType().isEnum() && f.getValue() instanceof String) {
      // AWS's wording for a value outside an enum.
      String allowed = Arrays.stream(f.getTargetType().getEnumConstants()).map(Object::toString).collect(Collectors.joining(", ", "[", "]"));
      return new KmsException(KmsError.VALIDATION, "1 validation error detected: Value at '" + memberPath(f)
          + "' failed to satisfy constraint: Member must satisfy enum value set: " + allowed);
    }
    if (e instanceof MismatchedInputException m) {
      String target = m.getTargetType() == null ? "the member" : "a " + simpleType(m.getTargetType());
      return new KmsException(KmsError.SERIALIZATION, "Wrong JSON type for " + target + path(m));
    }
    if (e instanceof JsonMappingException m && m.getCause() != null && !(m.getCause() instanceof IOException)) {
      // The record's constructor refused the values (IllegalArgumentException, NullPointerException).
      String why = m.getCause().getMessage();
      return new KmsException(KmsError.VALIDATION, "1 validation error detected" + path(m) + (why == null ? "" : ": " + why));
    }
    return new KmsException(KmsError.SERIALIZATION, "The request cannot be read" + (e instanceof JsonMappingException m ? path(m) : ""));
  }

  private static String simpleType(Class<?> c) {
    if (c == byte[].class) {
      return "blob (base64 string)";
    }
    if (c == Instant.class) {
      return "timestamp (epoch seconds)";
    }
    if (Number.class.isAssignableFrom(c) || (c.isPrimitive() && c != boolean.class)) {
      return "number";
    }
    if (c == Boolean.class || c == boolean.class) {
      return "boolean";
    }
    if (c == String.class) {
      return "string";
    }
    if (java.util.Map.class.isAssignableFrom(c)) {
      return "map";
    }
    if (java.util.Collection.class.isAssignableFrom(c) || c.isArray()) {
      return "list";
    }
    return "structure";
  }

  private static String path(JsonMappingException e) {
    String p = memberPath(e);
    return p.isEmpty() ? "" : " at '" + p + "'";
  }

  /** The member path in AWS's spelling ({@code KeyId}, {@code EncryptionContext.x}). */
  private static String memberPath(JsonMappingException e) {
    StringBuilder b = new StringBuilder();
    for (JsonMappingException.Reference r : e.getPath()) {
      if (r.getFieldName() != null) {
        if (b.length() > 0) {
          b.append('.');
        }
        b.append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        b.append('[').append(r.getIndex()).append(']');
      }
    }
    return b.toString();
  }

  private static String location(IOException e) {
    if (e instanceof com.fasterxml.jackson.core.JsonProcessingException p && p.getLocation() != null) {
      return " (line " + p.getLocation().getLineNr() + ", column " + p.getLocation().getColumnNr() + ")";
    }
    return "";
  }

  /** Instant as epoch seconds, a JSON number with the fraction only when there is one. */
  static final class EpochSecondsSerializer extends StdScalarSerializer<Instant> {
    private static final long serialVersionUID = 1L;

    EpochSecondsSerializer() {
      super(Instant.class);
    }

    @Override
    public void serialize(Instant v, JsonGenerator g, SerializerProvider p) throws IOException {
      if (v.getNano() == 0) {
        g.writeNumber(v.getEpochSecond());
      } else {
        g.writeNumber(BigDecimal.valueOf(v.getEpochSecond()).add(BigDecimal.valueOf(v.getNano(), 9)).stripTrailingZeros());
      }
    }
  }

  /** Epoch seconds (integer or decimal number) to Instant; a string is a wrong type. */
  static final class EpochSecondsDeserializer extends StdScalarDeserializer<Instant> {
    private static final long serialVersionUID = 1L;

    EpochSecondsDeserializer() {
      super(Instant.class);
    }

    @Override
    public Instant deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
      JsonToken t = p.currentToken();
      if (t != JsonToken.VALUE_NUMBER_INT && t != JsonToken.VALUE_NUMBER_FLOAT) {
        return (Instant) ctx.handleUnexpectedToken(Instant.class, p);
      }
      BigDecimal d = p.getDecimalValue();
      try {
        BigDecimal seconds = d.setScale(0, java.math.RoundingMode.FLOOR);
        int nanos = d.subtract(seconds).movePointRight(9).setScale(0, java.math.RoundingMode.FLOOR).intValueExact();
        return Instant.ofEpochSecond(seconds.longValueExact(), nanos);
      } catch (ArithmeticException | DateTimeException e) {
        return (Instant) ctx.handleWeirdNumberValue(Instant.class, d, "timestamp out of range");
      }
    }
  }

  /**
   * A blob is a base64 string and nothing else: Jackson's own byte[] deserializer also takes a
   * JSON array of numbers ({@code "Plaintext":[1,2,3]}), which AWS refuses as a wrong type.
   */
  static final class Base64BlobDeserializer extends StdScalarDeserializer<byte[]> {
    private static final long serialVersionUID = 1L;

    Base64BlobDeserializer() {
      super(byte[].class);
    }

    @Override
    public byte[] deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
      JsonToken t = p.currentToken();
      if (t == JsonToken.VALUE_STRING) {
        return p.getBinaryValue(ctx.getBase64Variant());
      }
      if (t == JsonToken.VALUE_EMBEDDED_OBJECT && p.getEmbeddedObject() instanceof byte[] b) {
        return b; // a binary node of a tree built in code, not from a request's text
      }
      return (byte[]) ctx.handleUnexpectedToken(byte[].class, p);
    }
  }
}
