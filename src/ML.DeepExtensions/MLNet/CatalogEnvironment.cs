using System.Reflection;
using Microsoft.ML.Runtime;

namespace ML.DeepExtensions.MLNet;

/// <summary>
/// Reaches the MLContext environment behind an ML.NET catalog. ML.NET gives outside assemblies no
/// public path to it: catalogs implement the internal interface <c>IInternalCatalog</c>, whose
/// explicitly implemented <c>Environment</c> property returns the context's <see cref="IHostEnvironment"/>.
/// We read that property by reflection, once per catalog type. If an ML.NET upgrade removes it,
/// this fails loudly here (and in the test that guards it) rather than silently losing the
/// context's seed and log.
/// </summary>
internal static class CatalogEnvironment
{
    private const string InterfaceName = "Microsoft.ML.Data.IInternalCatalog";

    public static IHostEnvironment From(object catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var type = catalog.GetType();
        var catalogInterface = type.GetInterfaces().FirstOrDefault(i => i.FullName == InterfaceName);
        var property = catalogInterface?.GetProperty("Environment", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance);
        if (property?.GetValue(catalog) is IHostEnvironment environment)
        {
            return environment;
        }

        throw new InvalidOperationException(
            $"ML.DeepExtensions could not reach the MLContext behind {type.FullName}: ML.NET "
            + $"{typeof(Microsoft.ML.MLContext).Assembly.GetName().Version} no longer exposes {InterfaceName}.Environment. "
            + "This library supports Microsoft.ML 5.0; please report the ML.NET version you use.");
    }
}
