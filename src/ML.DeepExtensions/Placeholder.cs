namespace ML.DeepExtensions;
