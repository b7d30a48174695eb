"""The gRPC messages of the Open Inference Protocol, built from the compiled descriptor that
ships beside ``_proto/grpc_predict_v2.proto``.

The messages live in a private descriptor pool, not protobuf's default one: a process that
also imports tritonclient's or kserve's generated modules (which define the same
``inference.*`` names) would otherwise fail with a duplicate-symbol error. Loading the
serialized descriptor instead of generated ``_pb2`` code also spares a pin on the exact
protobuf runtime that generated code demands.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from verdict.serving._proto.grpc_predict_v2_descriptor import SERIALIZED

SERVICE = "inference.GRPCInferenceService"
_POOL = descriptor_pool.DescriptorPool()
_FILE = _POOL.Add(descriptor_pb2.FileDescriptorProto.FromString(SERIALIZED))
_FILE_DESCRIPTOR = _POOL.FindFileByName("grpc_predict_v2.proto")


def message(name: str) -> Any:
    """The message class ``inference.<name>`` (nested names with dots)."""
    return message_factory.GetMessageClass(_POOL.FindMessageTypeByName(f"inference.{name}"))


ServerLiveRequest = message("ServerLiveRequest")
ServerLiveResponse = message("ServerLiveResponse")
ServerReadyRequest = message("ServerReadyRequest")
ServerReadyResponse = message("ServerReadyResponse")
ModelReadyRequest = message("ModelReadyRequest")
ModelReadyResponse = message("ModelReadyResponse")
ServerMetadataRequest = message("ServerMetadataRequest")
ServerMetadataResponse = message("ServerMetadataResponse")
ModelMetadataRequest = message("ModelMetadataRequest")
ModelMetadataResponse = message("ModelMetadataResponse")
ModelInferRequest = message("ModelInferRequest")
ModelInferResponse = message("ModelInferResponse")
InferTensorContents = message("InferTensorContents")

METHODS: dict[str, tuple[Any, Any]] = {
    method.name: (
        message_factory.GetMessageClass(method.input_type),
        message_factory.GetMessageClass(method.output_type),
    )
    for method in _FILE_DESCRIPTOR.services_by_name["GRPCInferenceService"].methods
}
"""Each RPC's request and response classes, by method name."""
