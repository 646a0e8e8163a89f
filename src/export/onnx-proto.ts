// The subset of onnx.proto that Ingot writes (ModelProto, GraphProto, NodeProto, TensorProto,
// ValueInfoProto, TypeProto, TensorShapeProto, AttributeProto, OperatorSetIdProto,
// StringStringEntryProto), with the official field numbers and names of
// https://github.com/onnx/onnx/blob/main/onnx/onnx.proto3. protobufjs parses this text once and
// encodes (and, for tests and inspection, decodes) the messages; no byte is written by hand.
// Fields Ingot never sets (sparse tensors, training info, external data, functions) are left out:
// a reader skips unknown fields, and a message without them is still a valid ONNX model.
import protobuf from "protobufjs";

export const ONNX_PROTO = `
syntax = "proto3";
package onnx;

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5;
    FLOATS = 6; INTS = 7; STRINGS = 8; TENSORS = 9; GRAPHS = 10;
  }
  string name = 1;
  string doc_string = 13;
  AttributeType type = 20;
  float f = 2;
  int64 i = 3;
  bytes s = 4;
  TensorProto t = 5;
  GraphProto g = 6;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
}

message ValueInfoProto {
  string name = 1;
  TypeProto type = 2;
  string doc_string = 3;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  string domain = 7;
  repeated AttributeProto attribute = 5;
  string doc_string = 6;
}

message ModelProto {
  int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  string producer_name = 2;
  string producer_version = 3;
  string domain = 4;
  int64 model_version = 5;
  string doc_string = 6;
  GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}

message StringStringEntryProto {
  string key = 1;
  string value = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message TensorProto {
  enum DataType {
    UNDEFINED = 0; FLOAT = 1; UINT8 = 2; INT8 = 3; UINT16 = 4; INT16 = 5; INT32 = 6; INT64 = 7;
    STRING = 8; BOOL = 9; FLOAT16 = 10; DOUBLE = 11; UINT32 = 12; UINT64 = 13;
    COMPLEX64 = 14; COMPLEX128 = 15; BFLOAT16 = 16;
  }
  repeated int64 dims = 1;
  int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7 [packed = true];
  string name = 8;
  string doc_string = 12;
  bytes raw_data = 9;
  repeated double double_data = 10 [packed = true];
  repeated uint64 uint64_data = 11 [packed = true];
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
    string denotation = 3;
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    int32 elem_type = 1;
    TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
  string denotation = 6;
}

message OperatorSetIdProto {
  string domain = 1;
  int64 version = 2;
}
`;

/** TensorProto.DataType values Ingot uses. */
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;

/** AttributeProto.AttributeType values. */
export const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

let modelType: protobuf.Type | null = null;

/** onnx.ModelProto, parsed from ONNX_PROTO on first use (snake_case field names, as in onnx.proto). */
export function onnxModelType(): protobuf.Type {
  modelType ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType("onnx.ModelProto");
  return modelType;
}

/** Encodes a ModelProto given as a plain object (field names as in onnx.proto). */
export function encodeModelProto(model: Record<string, unknown>): Uint8Array {
  const T = onnxModelType();
  const err = T.verify(model);
  if (err) throw new Error(`exportOnnx: internal error, the ModelProto does not match the schema: ${err}`);
  return T.encode(T.fromObject(model)).finish();
}

/** Decodes .onnx bytes into a plain object (int64 as numbers, bytes as Buffer/Uint8Array, enums as numbers). */
export function decodeModelProto(bytes: Uint8Array): Record<string, any> {
  const T = onnxModelType();
  return T.toObject(T.decode(bytes), { longs: Number, arrays: true }) as Record<string, any>;
}
