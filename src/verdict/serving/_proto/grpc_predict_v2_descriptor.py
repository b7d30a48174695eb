"""The compiled ``grpc_predict_v2.proto`` beside this file (a serialized
``FileDescriptorProto``), loaded by ``serving._grpc_messages`` into a private descriptor pool.

Regenerate after editing the .proto (from this folder, with grpcio-tools installed)::

    python -m grpc_tools.protoc -I. --descriptor_set_out=/tmp/v2.desc grpc_predict_v2.proto
    python -c "from google.protobuf import descriptor_pb2 as d; s = d.FileDescriptorSet.FromString(
        open('/tmp/v2.desc', 'rb').read()); print(repr(s.file[0].SerializeToString()))"

and paste the bytes below; ``tests/serving/test_grpc.py`` checks that they match the .proto.
"""

SERIALIZED = (
    b'\n\x15grpc_predict_v2.proto\x12\tinference"\x13\n\x11ServerLiveRequest"(\n\x12Server'
    b'LiveResponse\x12\x12\n\x04live\x18\x01 \x01(\x08R\x04live"\x14\n\x12ServerReadyReque'
    b'st"+\n\x13ServerReadyResponse\x12\x14\n\x05ready\x18\x01 \x01(\x08R\x05ready"A\n\x11'
    b"ModelReadyRequest\x12\x12\n\x04name\x18\x01 \x01(\tR\x04name\x12\x18\n\x07version"
    b'\x18\x02 \x01(\tR\x07version"*\n\x12ModelReadyResponse\x12\x14\n\x05ready\x18\x01 '
    b'\x01(\x08R\x05ready"\x17\n\x15ServerMetadataRequest"f\n\x16ServerMetadataResponse'
    b"\x12\x12\n\x04name\x18\x01 \x01(\tR\x04name\x12\x18\n\x07version\x18\x02 \x01(\tR"
    b'\x07version\x12\x1e\n\nextensions\x18\x03 \x03(\tR\nextensions"D\n\x14ModelMetadataR'
    b"equest\x12\x12\n\x04name\x18\x01 \x01(\tR\x04name\x12\x18\n\x07version\x18\x02 \x01("
    b'\tR\x07version"\xcf\x02\n\x15ModelMetadataResponse\x12\x12\n\x04name\x18\x01 \x01(\t'
    b"R\x04name\x12\x1a\n\x08versions\x18\x02 \x03(\tR\x08versions\x12\x1a\n\x08platform"
    b"\x18\x03 \x01(\tR\x08platform\x12G\n\x06inputs\x18\x04 \x03(\x0b2/.inference.ModelMe"
    b"tadataResponse.TensorMetadataR\x06inputs\x12I\n\x07outputs\x18\x05 \x03(\x0b2/.infer"
    b"ence.ModelMetadataResponse.TensorMetadataR\x07outputs\x1aV\n\x0eTensorMetadata\x12"
    b"\x12\n\x04name\x18\x01 \x01(\tR\x04name\x12\x1a\n\x08datatype\x18\x02 \x01(\tR\x08da"
    b'tatype\x12\x14\n\x05shape\x18\x03 \x03(\x03R\x05shape"\x9d\x08\n\x11ModelInferReques'
    b"t\x12\x1d\n\nmodel_name\x18\x01 \x01(\tR\tmodelName\x12#\n\rmodel_version\x18\x02 "
    b"\x01(\tR\x0cmodelVersion\x12\x0e\n\x02id\x18\x03 \x01(\tR\x02id\x12L\n\nparameters"
    b"\x18\x04 \x03(\x0b2,.inference.ModelInferRequest.ParametersEntryR\nparameters\x12E\n"
    b"\x06inputs\x18\x05 \x03(\x0b2-.inference.ModelInferRequest.InferInputTensorR\x06inpu"
    b"ts\x12Q\n\x07outputs\x18\x06 \x03(\x0b27.inference.ModelInferRequest.InferRequestedO"
    b"utputTensorR\x07outputs\x12,\n\x12raw_input_contents\x18\x07 \x03(\x0cR\x10rawInputC"
    b"ontents\x1a\xcd\x02\n\x10InferInputTensor\x12\x12\n\x04name\x18\x01 \x01(\tR\x04name"
    b"\x12\x1a\n\x08datatype\x18\x02 \x01(\tR\x08datatype\x12\x14\n\x05shape\x18\x03 \x03("
    b"\x03R\x05shape\x12]\n\nparameters\x18\x04 \x03(\x0b2=.inference.ModelInferRequest.In"
    b"ferInputTensor.ParametersEntryR\nparameters\x12:\n\x08contents\x18\x05 \x01(\x0b2"
    b"\x1e.inference.InferTensorContentsR\x08contents\x1aX\n\x0fParametersEntry\x12\x10\n"
    b"\x03key\x18\x01 \x01(\tR\x03key\x12/\n\x05value\x18\x02 \x01(\x0b2\x19.inference.Inf"
    b"erParameterR\x05value:\x028\x01\x1a\xf3\x01\n\x1aInferRequestedOutputTensor\x12\x12"
    b"\n\x04name\x18\x01 \x01(\tR\x04name\x12g\n\nparameters\x18\x02 \x03(\x0b2G.inference"
    b".ModelInferRequest.InferRequestedOutputTensor.ParametersEntryR\nparameters\x1aX\n"
    b"\x0fParametersEntry\x12\x10\n\x03key\x18\x01 \x01(\tR\x03key\x12/\n\x05value\x18\x02"
    b" \x01(\x0b2\x19.inference.InferParameterR\x05value:\x028\x01\x1aX\n\x0fParametersEnt"
    b"ry\x12\x10\n\x03key\x18\x01 \x01(\tR\x03key\x12/\n\x05value\x18\x02 \x01(\x0b2\x19.i"
    b'nference.InferParameterR\x05value:\x028\x01"\xdf\x05\n\x12ModelInferResponse\x12\x1d'
    b"\n\nmodel_name\x18\x01 \x01(\tR\tmodelName\x12#\n\rmodel_version\x18\x02 \x01(\tR"
    b"\x0cmodelVersion\x12\x0e\n\x02id\x18\x03 \x01(\tR\x02id\x12M\n\nparameters\x18\x04 "
    b"\x03(\x0b2-.inference.ModelInferResponse.ParametersEntryR\nparameters\x12I\n\x07outp"
    b"uts\x18\x05 \x03(\x0b2/.inference.ModelInferResponse.InferOutputTensorR\x07outputs"
    b"\x12.\n\x13raw_output_contents\x18\x06 \x03(\x0cR\x11rawOutputContents\x1a\xd0\x02\n"
    b"\x11InferOutputTensor\x12\x12\n\x04name\x18\x01 \x01(\tR\x04name\x12\x1a\n\x08dataty"
    b"pe\x18\x02 \x01(\tR\x08datatype\x12\x14\n\x05shape\x18\x03 \x03(\x03R\x05shape\x12_"
    b"\n\nparameters\x18\x04 \x03(\x0b2?.inference.ModelInferResponse.InferOutputTensor.Pa"
    b"rametersEntryR\nparameters\x12:\n\x08contents\x18\x05 \x01(\x0b2\x1e.inference.Infer"
    b"TensorContentsR\x08contents\x1aX\n\x0fParametersEntry\x12\x10\n\x03key\x18\x01 \x01("
    b"\tR\x03key\x12/\n\x05value\x18\x02 \x01(\x0b2\x19.inference.InferParameterR\x05value"
    b":\x028\x01\x1aX\n\x0fParametersEntry\x12\x10\n\x03key\x18\x01 \x01(\tR\x03key\x12/\n"
    b'\x05value\x18\x02 \x01(\x0b2\x19.inference.InferParameterR\x05value:\x028\x01"\xd7'
    b"\x01\n\x0eInferParameter\x12\x1f\n\nbool_param\x18\x01 \x01(\x08H\x00R\tboolParam"
    b"\x12!\n\x0bint64_param\x18\x02 \x01(\x03H\x00R\nint64Param\x12#\n\x0cstring_param"
    b"\x18\x03 \x01(\tH\x00R\x0bstringParam\x12#\n\x0cdouble_param\x18\x04 \x01(\x01H\x00R"
    b"\x0bdoubleParam\x12#\n\x0cuint64_param\x18\x05 \x01(\x04H\x00R\x0buint64ParamB\x12\n"
    b'\x10parameter_choice"\xc3\x02\n\x13InferTensorContents\x12#\n\rbool_contents\x18\x01'
    b" \x03(\x08R\x0cboolContents\x12!\n\x0cint_contents\x18\x02 \x03(\x05R\x0bintContents"
    b"\x12%\n\x0eint64_contents\x18\x03 \x03(\x03R\rint64Contents\x12#\n\ruint_contents"
    b"\x18\x04 \x03(\rR\x0cuintContents\x12'\n\x0fuint64_contents\x18\x05 \x03(\x04R\x0eu"
    b"int64Contents\x12#\n\rfp32_contents\x18\x06 \x03(\x02R\x0cfp32Contents\x12#\n\rfp64_"
    b"contents\x18\x07 \x03(\x01R\x0cfp64Contents\x12%\n\x0ebytes_contents\x18\x08 \x03("
    b"\x0cR\rbytesContents2\xfc\x03\n\x14GRPCInferenceService\x12K\n\nServerLive\x12\x1c.i"
    b'nference.ServerLiveRequest\x1a\x1d.inference.ServerLiveResponse"\x00\x12N\n\x0bServe'
    b'rReady\x12\x1d.inference.ServerReadyRequest\x1a\x1e.inference.ServerReadyResponse"'
    b"\x00\x12K\n\nModelReady\x12\x1c.inference.ModelReadyRequest\x1a\x1d.inference.ModelR"
    b'eadyResponse"\x00\x12W\n\x0eServerMetadata\x12 .inference.ServerMetadataRequest\x1a!'
    b'.inference.ServerMetadataResponse"\x00\x12T\n\rModelMetadata\x12\x1f.inference.Model'
    b'MetadataRequest\x1a .inference.ModelMetadataResponse"\x00\x12K\n\nModelInfer\x12\x1c'
    b'.inference.ModelInferRequest\x1a\x1d.inference.ModelInferResponse"\x00b\x06proto3'
)
