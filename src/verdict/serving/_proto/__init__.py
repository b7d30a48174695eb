"""The Open Inference Protocol's gRPC definition: the .proto and its compiled descriptor."""
