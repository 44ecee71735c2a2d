using ML.DeepExtensions.Networks;
using TorchSharp.Modules;

namespace ML.DeepExtensions.Onnx.Converters;

/// <summary>The converters every <see cref="OnnxModuleExporter"/> starts with. A new layer is one line here plus its converter.</summary>
internal static class BuiltInConverters
{
    public static void RegisterAll(OnnxModuleExporter exporter)
    {
        exporter
            .Register<Sequential>(ContainerConverters.Sequential)
            .Register<Identity>(PassThroughConverters.Identity)
            .Register<Dropout>(PassThroughConverters.Dropout)
            .Register<AlphaDropout>(PassThroughConverters.AlphaDropout)
            .Register<Linear>(LinearConverter.Linear)
            .Register<Flatten>(FlattenConverter.Flatten)
            .Register<ReLU>(ActivationConverters.ReLU)
            .Register<LeakyReLU>(ActivationConverters.LeakyReLU)
            .Register<ELU>(ActivationConverters.Elu)
            .Register<GELU>(ActivationConverters.Gelu)
            .Register<SiLU>(ActivationConverters.SiLU)
            .Register<Tanh>(ActivationConverters.Tanh)
            .Register<Sigmoid>(ActivationConverters.Sigmoid)
            .Register<Softmax>(ActivationConverters.Softmax)
            .Register<LogSoftmax>(ActivationConverters.LogSoftmax)
            .Register<BatchNorm1d>(NormalizationConverters.BatchNorm1d)
            .Register<Standardization>(NormalizationConverters.Standardization);
    }
}
