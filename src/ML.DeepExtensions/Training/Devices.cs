using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Training;

/// <summary>Turns a <see cref="TrainingDevice"/> choice into a TorchSharp device.</summary>
public static class Devices
{
    /// <summary>Resolves the device, failing clearly when CUDA is requested but unavailable.</summary>
    /// <exception cref="InvalidOperationException">CUDA was requested and no CUDA backend or device is present.</exception>
    public static Device Resolve(TrainingDevice device) => device switch
    {
        TrainingDevice.Cpu => CPU,
        TrainingDevice.Auto => cuda.is_available() ? CUDA : CPU,
        TrainingDevice.Cuda when cuda.is_available() => CUDA,
        TrainingDevice.Cuda => throw new InvalidOperationException(
            "Device = Cuda was requested, but no CUDA device is usable: the application references a CPU-only "
            + "TorchSharp backend (TorchSharp-cpu) or no NVIDIA driver/GPU is present. Reference TorchSharp-cuda-linux "
            + "or TorchSharp-cuda-windows instead of TorchSharp-cpu, or use Device = Auto to fall back to the CPU."),
        _ => throw new ArgumentOutOfRangeException(nameof(device), device, "Unknown device."),
    };
}
