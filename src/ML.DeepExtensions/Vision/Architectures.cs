using ML.DeepExtensions.Layers;
using static ML.DeepExtensions.Layers.Layer;

namespace ML.DeepExtensions.Vision;

/// <summary>Preset architectures for small images (28×28 to 64×64). The output layer is added by the trainer.</summary>
public static class Architectures
{
    /// <summary>LeNet-5 style: two 5×5 convolutions with pooling, then 120 and 84 units. The fastest preset.</summary>
    public static IReadOnlyList<NetworkLayer> LeNet { get; } =
    [
        Conv2D(6, 5), Relu(), MaxPool2D(),
        Conv2D(16, 5, padding: 0), Relu(), MaxPool2D(),
        Flatten(), Dense(120), Relu(), Dense(84), Relu(),
    ];

    /// <summary>A small VGG-style net with batch norm: 2×32 and 2×64 3×3 convolutions, pooling, dropout, 256 units.</summary>
    public static IReadOnlyList<NetworkLayer> SmallVgg { get; } =
    [
        Conv2D(32), BatchNorm(), Relu(), Conv2D(32), BatchNorm(), Relu(), MaxPool2D(), Dropout(0.1),
        Conv2D(64), BatchNorm(), Relu(), Conv2D(64), BatchNorm(), Relu(), MaxPool2D(), Dropout(0.2),
        Flatten(), Dense(256), BatchNorm(), Relu(), Dropout(0.4),
    ];

    /// <summary>A small ResNet: a 32-channel stem, residual blocks of 32, 64 (stride 2) and 128 (stride 2) channels, global average pooling.</summary>
    public static IReadOnlyList<NetworkLayer> SmallResNet { get; } =
    [
        Conv2D(32), BatchNorm(), Relu(),
        Residual(32), Residual(64, stride: 2), Residual(128, stride: 2),
        GlobalAveragePooling(),
    ];
}
