using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using ML.DeepExtensions.Build;

namespace ML.DeepExtensions.Tests.Build;

/// <summary>
/// The ELF logic behind the libstdc++ compatibility build step, run on temporary copies of the
/// pristine libLibTorchSharp.so from the NuGet package folder.
/// </summary>
[TestClass]
public sealed class ElfVersionNeedsTests
{
    private const string Libstdcxx = "libstdc++.so.6";
    private const string MarkerVersion = "GLIBCXX_3.4.32";
    private const string LinuxOnly = "Reads the system libstdc++ or uses Linux tools; the build step runs on Linux only.";

    private static readonly string[] LibstdcxxCandidates =
    [
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
        "/lib/aarch64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6",
        "/lib64/libstdc++.so.6",
        "/usr/lib/libstdc++.so.6",
    ];

    private static readonly Lazy<string> _pristineLibrary = new(FindPristineLibrary);

    private string _workDirectory = "";

    [TestInitialize]
    public void CreateWorkDirectory() => _workDirectory = Directory.CreateTempSubdirectory("mldx-elf-").FullName;

    [TestCleanup]
    public void DeleteWorkDirectory() => Directory.Delete(_workDirectory, recursive: true);

    [TestMethod]
    public void PristineLibraryNeedsTheMarkerVersionNonWeak()
    {
        var marker = Needs(_pristineLibrary.Value).SingleOrDefault(need => need.Name == MarkerVersion);

        Assert.IsNotNull(marker, $"{_pristineLibrary.Value} should need {MarkerVersion} from {Libstdcxx}");
        Assert.IsFalse(marker.IsWeak, "the copy in the NuGet package folder must never be patched");
    }

    [TestMethod]
    [OSCondition(OperatingSystems.Linux, IgnoreMessage = LinuxOnly)]
    public void WithTheSystemVersionsOnlyAMissingMarkerVersionIsWeakened()
    {
        var system = SystemLibstdcxxVersions();
        var library = CopyPristine();
        var before = File.ReadAllBytes(library);
        var missing = Needs(library).Where(need => !need.IsWeak && !system.Contains(need.Name)).Select(need => need.Name).ToHashSet();

        var outcome = ElfVersionNeeds.WeakenMissingMarkerVersions(library, Libstdcxx, system, out var detail);

        if (missing.Count == 0)
        {
            // GCC 13 or newer: the library loads as shipped.
            Assert.AreEqual(ElfPatchOutcome.NotNeeded, outcome, detail);
            CollectionAssert.AreEqual(before, File.ReadAllBytes(library));
        }
        else if (missing.SetEquals([MarkerVersion]))
        {
            // GCC 11 and 12, Debian 12 among them: only the marker version is missing.
            Assert.AreEqual(ElfPatchOutcome.Patched, outcome, detail);
            AssertOnlyMarkerWasWeakened(before, library);
        }
        else
        {
            // Older still: symbols that are really called need versions the system lacks.
            Assert.AreEqual(ElfPatchOutcome.Unsafe, outcome, detail);
            CollectionAssert.AreEqual(before, File.ReadAllBytes(library));
        }
    }

    [TestMethod]
    public void SecondRunIsNotNeededAndLeavesTheBytesIdentical()
    {
        var library = CopyPristine();
        var likeDebian12 = NeededVersionsExcept(library, MarkerVersion);
        Assert.AreEqual(ElfPatchOutcome.Patched, ElfVersionNeeds.WeakenMissingMarkerVersions(library, Libstdcxx, likeDebian12, out _));
        var afterFirstRun = File.ReadAllBytes(library);

        var outcome = ElfVersionNeeds.WeakenMissingMarkerVersions(library, Libstdcxx, likeDebian12, out var detail);

        Assert.AreEqual(ElfPatchOutcome.NotNeeded, outcome, detail);
        CollectionAssert.AreEqual(afterFirstRun, File.ReadAllBytes(library));
    }

    [TestMethod]
    public void AlwaysModeWeakensOnlyMarkerOnlyVersions()
    {
        var library = CopyPristine();
        var before = File.ReadAllBytes(library);

        var outcome = ElfVersionNeeds.WeakenMissingMarkerVersions(library, Libstdcxx, available: null, out var detail);

        Assert.AreEqual(ElfPatchOutcome.Patched, outcome, detail);
        AssertOnlyMarkerWasWeakened(before, library);
        Assert.AreEqual(ElfPatchOutcome.NotNeeded, ElfVersionNeeds.WeakenMissingMarkerVersions(library, Libstdcxx, null, out _));
    }

    [TestMethod]
    public void MissingVersionBoundToRealSymbolsIsUnsafeAndNothingIsChanged()
    {
        var library = CopyPristine();
        var before = File.ReadAllBytes(library);
        // A system older than GCC 12 lacks GLIBCXX_3.4.30, whose symbols the library really calls.
        var tooOld = NeededVersionsExcept(library, "GLIBCXX_3.4.30", MarkerVersion);

        var outcome = ElfVersionNeeds.WeakenMissingMarkerVersions(library, Libstdcxx, tooOld, out var detail);

        Assert.AreEqual(ElfPatchOutcome.Unsafe, outcome, detail);
        Assert.Contains("GLIBCXX_3.4.30", detail);
        // All or nothing: not even the harmless marker version was weakened.
        CollectionAssert.AreEqual(before, File.ReadAllBytes(library));
    }

    [TestMethod]
    [OSCondition(OperatingSystems.Linux, IgnoreMessage = LinuxOnly)]
    public void PatchingAHardLinkedFileLeavesTheOtherLinkUntouched()
    {
        var library = CopyPristine();
        var otherLink = Path.Combine(_workDirectory, "other-link.so");
        Run("ln", library, otherLink);
        Assert.AreEqual("2", Run("stat", "-c", "%h", library), "ln should have made a second link to the same file");
        var before = File.ReadAllBytes(otherLink);

        var outcome = ElfVersionNeeds.WeakenMissingMarkerVersions(library, Libstdcxx, available: null, out var detail);

        Assert.AreEqual(ElfPatchOutcome.Patched, outcome, detail);
        CollectionAssert.AreEqual(before, File.ReadAllBytes(otherLink));
        Assert.IsFalse(Needs(otherLink).Single(need => need.Name == MarkerVersion).IsWeak);
        Assert.AreEqual("1", Run("stat", "-c", "%h", otherLink), "the patched file should be a new file, not written through the link");
    }

    [TestMethod]
    [DataRow("not a shared library\n")]
    [DataRow("")]
    public void NonElfFileIsNotApplicableAndUnchanged(string content)
    {
        var file = Path.Combine(_workDirectory, "not-elf.so");
        File.WriteAllText(file, content);

        var outcome = ElfVersionNeeds.WeakenMissingMarkerVersions(file, Libstdcxx, available: null, out var detail);

        Assert.AreEqual(ElfPatchOutcome.NotApplicable, outcome, detail);
        Assert.AreEqual(content, File.ReadAllText(file));
    }

    [TestMethod]
    [OSCondition(OperatingSystems.Linux, IgnoreMessage = LinuxOnly)]
    public void BuildOutputCopyNeedsNoVersionTheSystemLacks()
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            Assert.Inconclusive("TorchSharp's CPU backend ships libLibTorchSharp.so for linux-x64 only.");
        }

        var system = SystemLibstdcxxVersions();
        var outputCopy = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.IsTrue(File.Exists(outputCopy), $"expected the build output to hold {outputCopy}");

        var missing = Needs(outputCopy).Where(need => !need.IsWeak && !system.Contains(need.Name)).Select(need => need.Name);

        Assert.IsEmpty(missing, "the build step should have made every version this system lacks weak");
    }

    private static List<VersionNeed> Needs(string library) => ElfVersionNeeds.ReadNeeds(library, Libstdcxx);

    private static HashSet<string> NeededVersionsExcept(string library, params string[] lacking) =>
        Needs(library).Select(need => need.Name).Except(lacking).ToHashSet();

    private static void AssertOnlyMarkerWasWeakened(byte[] before, string library)
    {
        var needs = Needs(library);
        CollectionAssert.AreEquivalent(new[] { MarkerVersion }, needs.Where(need => need.IsWeak).Select(need => need.Name).ToList());

        var marker = needs.Single(need => need.Name == MarkerVersion);
        var after = File.ReadAllBytes(library);
        Assert.HasCount(before.Length, after);
        var changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToList();
        CollectionAssert.AreEqual(new[] { (int)marker.FlagsOffset }, changed, "only the marker's vna_flags byte may change");
    }

    private string CopyPristine()
    {
        var copy = Path.Combine(_workDirectory, "libLibTorchSharp.so");
        File.Copy(_pristineLibrary.Value, copy);
        return copy;
    }

    private static HashSet<string> SystemLibstdcxxVersions()
    {
        var path = LibstdcxxCandidates.FirstOrDefault(File.Exists);
        if (path is null)
        {
            Assert.Inconclusive("No system libstdc++.so.6 found in " + string.Join(", ", LibstdcxxCandidates));
        }

        var versions = ElfVersionNeeds.ReadDefinedVersions(path);
        Assert.Contains("GLIBCXX_3.4", versions, $"{path} should define the GLIBCXX versions");
        return versions;
    }

    private static string Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.AreEqual(0, process.ExitCode, $"{program} {string.Join(' ', arguments)} failed: {error}");
        return output.Trim();
    }

    /// <summary>
    /// TorchSharp's own libLibTorchSharp.so in the NuGet package folder that the test project
    /// restored from: the package path comes from the test's .deps.json, the folder from
    /// project.assets.json, NUGET_PACKAGES or the default ~/.nuget/packages.
    /// </summary>
    private static string FindPristineLibrary()
    {
        var packagePath = TorchSharpPackagePath();
        var relative = Path.Combine("runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        var folders = PackageFolders().ToList();
        foreach (var folder in folders)
        {
            var candidate = Path.Combine(folder, packagePath, relative);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        Assert.Fail($"TorchSharp's package ({packagePath}) was not found in: {string.Join(", ", folders)}. Restore the test project first.");
        return "";
    }

    private static string TorchSharpPackagePath()
    {
        var depsFile = Path.Combine(AppContext.BaseDirectory, typeof(ElfVersionNeedsTests).Assembly.GetName().Name + ".deps.json");
        using var deps = JsonDocument.Parse(File.ReadAllText(depsFile));
        foreach (var library in deps.RootElement.GetProperty("libraries").EnumerateObject())
        {
            if (library.Name.StartsWith("TorchSharp/", StringComparison.Ordinal))
            {
                return library.Value.GetProperty("path").GetString()!;
            }
        }

        Assert.Fail($"{depsFile} names no TorchSharp package.");
        return "";
    }

    private static IEnumerable<string> PackageFolders()
    {
        // The restore records the folders it used in obj/project.assets.json, beside bin/.
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var assets = Path.Combine(directory.FullName, "obj", "project.assets.json");
            if (File.Exists(assets))
            {
                using var document = JsonDocument.Parse(File.ReadAllText(assets));
                if (document.RootElement.TryGetProperty("packageFolders", out var packageFolders))
                {
                    foreach (var folder in packageFolders.EnumerateObject())
                    {
                        yield return folder.Name;
                    }
                }

                break;
            }
        }

        if (Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured)
        {
            yield return configured;
        }

        yield return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
    }
}
