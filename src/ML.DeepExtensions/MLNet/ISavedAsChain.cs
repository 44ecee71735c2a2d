using Microsoft.ML;

namespace ML.DeepExtensions.MLNet;

/// <summary>
/// A model of this library that saves as ML.NET's own transformers: its <c>Save</c> writes
/// <see cref="SavedTransformer"/> in its place, so a loaded copy is that transformer. Code that walks
/// a model's chain as it will be saved (the batch scorer) looks through it.
/// </summary>
internal interface ISavedAsChain
{
    /// <summary>The transformer written in this model's place.</summary>
    ITransformer SavedTransformer { get; }
}
