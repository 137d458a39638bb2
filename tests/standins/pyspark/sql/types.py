"""Stand-in for pyspark.sql.types (tests only; PySpark cannot be installed here).

Written to behave as PySpark 3.5's module does for the parts our code and
tests use, with the same names, signatures and JSON format:

    StructType.fromJson({"type": "struct", "fields": [
        {"name": "id", "type": "string", "nullable": False, "metadata": {}},
        {"name": "tags", "type": {"type": "array", "elementType": "string",
                                  "containsNull": True},
         "nullable": True, "metadata": {}}]})

- Types: NullType ("void"), StringType, BinaryType, BooleanType, DateType,
  TimestampType, TimestampNTZType ("timestamp_ntz"), DecimalType(precision,
  scale), DoubleType, FloatType, ByteType, ShortType, IntegerType ("integer"),
  LongType ("long"), ArrayType(elementType, containsNull=True),
  MapType(keyType, valueType, valueContainsNull=True),
  StructField(name, dataType, nullable=True, metadata=None), StructType(fields).
- DataType: typeName() (the class name without "Type", lower case),
  simpleString() ("bigint", "array<string>", "struct<a:int>"), jsonValue(),
  json() (compact, keys sorted, as PySpark), equality by value (__dict__),
  hash, repr as in 3.5 ("StructField('id', StringType(), False)").
  Parameterless types are singletons (StringType() is StringType()).
- StructType: fields, names, fieldNames(), add(), len(), iteration over its
  fields, [name] / [index] / [slice], fromJson().
- Parsing JSON: an unknown type name raises ValueError("Could not parse
  datatype: ..."), an unknown complex type ValueError("not supported type:
  ..."); a missing key raises KeyError. PySpark 3.4+ raises PySparkValueError
  (a ValueError) with other wording; the exception class is what matters.

Not provided (they need a JVM): DDL parsing (_parse_datatype_string,
DataType.fromDDL), UDTs, interval types, Row, conversion to and from
internal values.
"""
import json as _json
import re

__all__ = [
    "DataType", "NullType", "StringType", "BinaryType", "BooleanType", "DateType",
    "TimestampType", "TimestampNTZType", "DecimalType", "DoubleType", "FloatType",
    "ByteType", "IntegerType", "LongType", "ShortType", "ArrayType", "MapType",
    "StructField", "StructType"]


class DataType:
    """Base class for data types."""

    def __repr__(self):
        return self.__class__.__name__ + "()"

    def __hash__(self):
        return hash(str(self))

    def __eq__(self, other):
        return isinstance(other, self.__class__) and self.__dict__ == other.__dict__

    def __ne__(self, other):
        return not self.__eq__(other)

    @classmethod
    def typeName(cls):
        return cls.__name__[:-4].lower()

    def simpleString(self):
        return self.typeName()

    def jsonValue(self):
        return self.typeName()

    def json(self):
        return _json.dumps(self.jsonValue(), separators=(",", ":"), sort_keys=True)


class DataTypeSingleton(type):
    """Metaclass: a parameterless type has one instance."""

    _instances = {}

    def __call__(cls):
        if cls not in cls._instances:
            cls._instances[cls] = super().__call__()
        return cls._instances[cls]


class NullType(DataType, metaclass=DataTypeSingleton):
    """The type of None (JSON "void")."""

    @classmethod
    def typeName(cls):
        return "void"


class AtomicType(DataType):
    """Everything that is not null, an array, a map or a struct."""


class NumericType(AtomicType):
    """Numeric types."""


class IntegralType(NumericType, metaclass=DataTypeSingleton):
    """Integral types."""


class FractionalType(NumericType):
    """Fractional types."""


class StringType(AtomicType, metaclass=DataTypeSingleton):
    """String."""


class BinaryType(AtomicType, metaclass=DataTypeSingleton):
    """Byte array."""


class BooleanType(AtomicType, metaclass=DataTypeSingleton):
    """Boolean."""


class DateType(AtomicType, metaclass=DataTypeSingleton):
    """Date (datetime.date)."""


class TimestampType(AtomicType, metaclass=DataTypeSingleton):
    """Timestamp with the session time zone (datetime.datetime)."""


class TimestampNTZType(AtomicType, metaclass=DataTypeSingleton):
    """Timestamp without time zone."""

    @classmethod
    def typeName(cls):
        return "timestamp_ntz"


class DecimalType(FractionalType):
    """Decimal with a fixed precision and scale (default 10, 0)."""

    def __init__(self, precision=10, scale=0):
        self.precision = precision
        self.scale = scale
        self.hasPrecisionInfo = True

    def simpleString(self):
        return "decimal(%d,%d)" % (self.precision, self.scale)

    def jsonValue(self):
        return "decimal(%d,%d)" % (self.precision, self.scale)

    def __repr__(self):
        return "DecimalType(%d, %d)" % (self.precision, self.scale)


class DoubleType(FractionalType, metaclass=DataTypeSingleton):
    """Double precision float."""


class FloatType(FractionalType, metaclass=DataTypeSingleton):
    """Single precision float."""


class ByteType(IntegralType):
    """Signed 8-bit integer."""

    def simpleString(self):
        return "tinyint"


class IntegerType(IntegralType):
    """Signed 32-bit integer."""

    def simpleString(self):
        return "int"


class LongType(IntegralType):
    """Signed 64-bit integer."""

    def simpleString(self):
        return "bigint"


class ShortType(IntegralType):
    """Signed 16-bit integer."""

    def simpleString(self):
        return "smallint"


class ArrayType(DataType):
    """Array of elementType; containsNull: whether elements may be null."""

    def __init__(self, elementType, containsNull=True):
        assert isinstance(elementType, DataType), \
            "elementType %s should be an instance of %s" % (elementType, DataType)
        self.elementType = elementType
        self.containsNull = containsNull

    def simpleString(self):
        return "array<%s>" % self.elementType.simpleString()

    def __repr__(self):
        return "ArrayType(%s, %s)" % (self.elementType, str(self.containsNull))

    def jsonValue(self):
        return {"type": self.typeName(),
                "elementType": self.elementType.jsonValue(),
                "containsNull": self.containsNull}

    @classmethod
    def fromJson(cls, json):
        return ArrayType(_parse_datatype_json_value(json["elementType"]), json["containsNull"])


class MapType(DataType):
    """Map from keyType to valueType; valueContainsNull: whether values may be null."""

    def __init__(self, keyType, valueType, valueContainsNull=True):
        assert isinstance(keyType, DataType), \
            "keyType %s should be an instance of %s" % (keyType, DataType)
        assert isinstance(valueType, DataType), \
            "valueType %s should be an instance of %s" % (valueType, DataType)
        self.keyType = keyType
        self.valueType = valueType
        self.valueContainsNull = valueContainsNull

    def simpleString(self):
        return "map<%s,%s>" % (self.keyType.simpleString(), self.valueType.simpleString())

    def __repr__(self):
        return "MapType(%s, %s, %s)" % (self.keyType, self.valueType,
                                        str(self.valueContainsNull))

    def jsonValue(self):
        return {"type": self.typeName(),
                "keyType": self.keyType.jsonValue(),
                "valueType": self.valueType.jsonValue(),
                "valueContainsNull": self.valueContainsNull}

    @classmethod
    def fromJson(cls, json):
        return MapType(_parse_datatype_json_value(json["keyType"]),
                       _parse_datatype_json_value(json["valueType"]),
                       json["valueContainsNull"])


class StructField(DataType):
    """A field of a StructType: name, dataType, nullable, metadata (a dict)."""

    def __init__(self, name, dataType, nullable=True, metadata=None):
        assert isinstance(dataType, DataType), \
            "dataType %s should be an instance of %s" % (dataType, DataType)
        assert isinstance(name, str), "field name %s should be a string" % (name,)
        self.name = name
        self.dataType = dataType
        self.nullable = nullable
        self.metadata = metadata or {}

    def simpleString(self):
        return "%s:%s" % (self.name, self.dataType.simpleString())

    def __repr__(self):
        return "StructField('%s', %s, %s)" % (self.name, self.dataType, str(self.nullable))

    def jsonValue(self):
        return {"name": self.name,
                "type": self.dataType.jsonValue(),
                "nullable": self.nullable,
                "metadata": self.metadata}

    @classmethod
    def fromJson(cls, json):
        return StructField(json["name"], _parse_datatype_json_value(json["type"]),
                           json.get("nullable", True), json.get("metadata"))

    def typeName(self):
        raise TypeError("StructField does not have typeName. "
                        "Use typeName on its type explicitly instead.")


class StructType(DataType):
    """A list of StructFields. Iterating gives the fields; a field can be had
    by name, by position, or a slice of them as a StructType."""

    def __init__(self, fields=None):
        if not fields:
            self.fields = []
            self.names = []
        else:
            self.fields = fields
            self.names = [f.name for f in fields]
            assert all(isinstance(f, StructField) for f in fields), \
                "fields should be a list of StructField"

    def add(self, field, data_type=None, nullable=True, metadata=None):
        """Append a StructField, or one made of (name, data_type, nullable,
        metadata); data_type may be a DataType or its JSON name. Returns self."""
        if isinstance(field, StructField):
            self.fields.append(field)
            self.names.append(field.name)
        else:
            if isinstance(field, str) and data_type is None:
                raise ValueError("Must specify DataType if passing name of struct_field to "
                                 "create.")
            if isinstance(data_type, str):
                data_type = _parse_datatype_json_value(data_type)
            self.fields.append(StructField(field, data_type, nullable, metadata))
            self.names.append(field)
        return self

    def __iter__(self):
        return iter(self.fields)

    def __len__(self):
        return len(self.fields)

    def __getitem__(self, key):
        if isinstance(key, str):
            for field in self:
                if field.name == key:
                    return field
            raise KeyError("No StructField named {0}".format(key))
        elif isinstance(key, int):
            try:
                return self.fields[key]
            except IndexError:
                raise IndexError("StructType index out of range") from None
        elif isinstance(key, slice):
            return StructType(self.fields[key])
        else:
            raise TypeError("StructType keys should be strings, integers or slices")

    def simpleString(self):
        return "struct<%s>" % ",".join(f.simpleString() for f in self)

    def __repr__(self):
        return "StructType([%s])" % ", ".join(str(field) for field in self)

    def jsonValue(self):
        return {"type": self.typeName(), "fields": [f.jsonValue() for f in self]}

    @classmethod
    def fromJson(cls, json):
        return StructType([StructField.fromJson(f) for f in json["fields"]])

    def fieldNames(self):
        return list(self.names)


# --- Parsing the JSON form ----------------------------------------------------

_atomic_types = [StringType, BinaryType, BooleanType, DecimalType, FloatType, DoubleType,
                 ByteType, ShortType, IntegerType, LongType, DateType, TimestampType,
                 TimestampNTZType, NullType]
_all_atomic_types = {t.typeName(): t for t in _atomic_types}
_complex_types = [ArrayType, MapType, StructType]
_all_complex_types = {t.typeName(): t for t in _complex_types}
_FIXED_DECIMAL = re.compile(r"decimal\(\s*(\d+)\s*,\s*(-?\d+)\s*\)")


def _parse_datatype_json_string(json_string):
    """The DataType of a JSON string, as DataType.json() writes it."""
    return _parse_datatype_json_value(_json.loads(json_string))


def _parse_datatype_json_value(json_value):
    if not isinstance(json_value, dict):
        if json_value in _all_atomic_types:
            return _all_atomic_types[json_value]()
        m = _FIXED_DECIMAL.match(json_value) if isinstance(json_value, str) else None
        if m:
            return DecimalType(int(m.group(1)), int(m.group(2)))
        raise ValueError("Could not parse datatype: %s" % (json_value,))
    tpe = json_value["type"]
    if tpe in _all_complex_types:
        return _all_complex_types[tpe].fromJson(json_value)
    raise ValueError("not supported type: %s" % (tpe,))
