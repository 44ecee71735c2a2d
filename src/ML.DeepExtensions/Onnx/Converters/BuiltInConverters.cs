using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Networks.Generative;
using ML.DeepExtensions.Networks.Sequence;
using ML.DeepExtensions.Networks.Vision;
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
            .Register<Standardization>(NormalizationConverters.Standardization)
            .Register<Conv2d>(VisionConverters.Conv2d)
            .Register<BatchNorm2d>(VisionConverters.BatchNorm2d)
            .Register<Dropout2d>(VisionConverters.Dropout2d)
            .Register<ReLU6>(VisionConverters.ReLU6)
            .Register<Hardswish>(VisionConverters.Hardswish)
            .Register<MaxPool2d>(VisionPoolingConverters.MaxPool2d)
            .Register<AvgPool2d>(VisionPoolingConverters.AvgPool2d)
            .Register<AdaptiveAvgPool2d>(VisionPoolingConverters.AdaptiveAvgPool2d)
            .Register<ResidualBlock>(VisionConverters.ResidualBlock)
            .Register<GlobalAveragePooling>(VisionConverters.GlobalAveragePooling)
            .Register<ImageNormalization>(VisionConverters.ImageNormalization)
            .Register<ConvTranspose2d>(GenerativeConverters.ConvTranspose2d)
            .Register<Upsampling>(GenerativeConverters.Upsampling)
            .Register<Reshape>(GenerativeConverters.Reshape)
            .Register<LabelEmbedding>(GenerativeConverters.LabelEmbedding)
            .Register<SpectralNormalization>(GenerativeConverters.SpectralNormalization)
            .Register<SequenceNetwork>(SequenceConverters.Network);
    }
}
