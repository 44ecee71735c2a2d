namespace ML.DeepExtensions.Cli.Output;

/// <summary>
/// An output file written under a temporary name in the same folder and renamed when complete, so
/// the final name never holds a half-written file. An existing file is replaced only with --force.
/// Disposing without <see cref="Commit"/> deletes the temporary file.
/// </summary>
internal sealed class AtomicOutput : IDisposable
{
    private readonly string _path;
    private readonly bool _force;
    private bool _committed;

    private AtomicOutput(string path, bool force, string temporary, FileStream stream)
    {
        _path = path;
        _force = force;
        TemporaryPath = temporary;
        Stream = stream;
    }

    public string TemporaryPath { get; }

    public FileStream Stream { get; }

    /// <summary>Checks the destination and creates the temporary file next to it.</summary>
    public static AtomicOutput Create(string path, bool force)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            throw CliException.Output($"The output '{path}' is a folder; give a file name.");
        }

        if (File.Exists(full) && !force)
        {
            throw CliException.Output($"The output '{path}' already exists; pass --force to replace it.");
        }

        string folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
        {
            throw CliException.Output($"Cannot write '{path}': the folder '{folder}' does not exist.");
        }

        string temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.partial");
        try
        {
            var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            return new AtomicOutput(full, force, temporary, stream);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.Output($"Cannot write to the folder '{folder}': {e.Message}", e);
        }
    }

    /// <summary>Closes the temporary file and moves it to the output name.</summary>
    public void Commit()
    {
        Stream.Flush(flushToDisk: true);
        Stream.Dispose();
        try
        {
            File.Move(TemporaryPath, _path, overwrite: _force);
        }
        catch (IOException e) when (File.Exists(_path) && !_force)
        {
            throw CliException.Output($"The output '{_path}' appeared while scoring; pass --force to replace it.", e);
        }

        _committed = true;
    }

    public void Dispose()
    {
        if (_committed)
        {
            return;
        }

        Stream.Dispose();
        try
        {
            File.Delete(TemporaryPath);
        }
        catch (IOException)
        {
            // Best effort: the name says it is partial.
        }
    }
}
