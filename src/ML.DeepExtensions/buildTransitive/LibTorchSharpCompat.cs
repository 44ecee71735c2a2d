// Compiled by MSBuild's RoslynCodeTaskFactory at build time (netstandard2.0 API surface only) and
// by the test project, which exercises ElfVersionNeeds directly.
//
// Why this exists: TorchSharp 0.107's libLibTorchSharp.so was linked against GCC 13's libstdc++ and
// therefore "needs" symbol version GLIBCXX_3.4.32, which Debian 12 (GCC 12) lacks, so the loader
// refuses the library. The need comes from a single symbol, _ZSt21ios_base_library_initv, that
// GCC 13's <iostream> references only as a version marker; nothing calls it. Marking that one
// version-need entry weak (VER_FLG_WEAK) lets the loader accept the library. We patch only a copy
// in the build output, only when the system libstdc++ lacks the version, and only when the marker
// is the sole symbol bound to it.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace ML.DeepExtensions.Build
{
    /// <summary>Outcome of inspecting (and possibly patching) one shared library.</summary>
    public enum ElfPatchOutcome
    {
        /// <summary>The library was changed: the listed version needs are now weak.</summary>
        Patched,
        /// <summary>Nothing to do: every version the library needs is available or already weak.</summary>
        NotNeeded,
        /// <summary>A missing version is bound to real symbols, so weakening it would be unsafe.</summary>
        Unsafe,
        /// <summary>The file is not a 64-bit little-endian ELF shared library with version needs.</summary>
        NotApplicable,
    }

    /// <summary>Reads and edits the GNU symbol-versioning sections of a 64-bit little-endian ELF file.</summary>
    public static class ElfVersionNeeds
    {
        private const uint ShtDynsym = 11;
        private const uint ShtGnuVerdef = 0x6ffffffd;
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const uint ShtGnuVersym = 0x6fffffff;
        private const ushort VerFlgWeak = 0x2;

        /// <summary>Symbols known to be referenced only as version markers, never called.</summary>
        public static readonly string[] MarkerOnlySymbols = { "_ZSt21ios_base_library_initv" };

        /// <summary>The version names a library defines (its .gnu.version_d), e.g. GLIBCXX_3.4.30.</summary>
        public static HashSet<string> ReadDefinedVersions(string path)
        {
            var result = new HashSet<string>(StringComparer.Ordinal);
            var elf = ElfImage.TryRead(File.ReadAllBytes(path));
            if (elf == null)
            {
                return result;
            }

            foreach (var section in elf.Sections)
            {
                if (section.Type != ShtGnuVerdef)
                {
                    continue;
                }

                var strtab = elf.Sections[(int)section.Link];
                long offset = (long)section.Offset;
                for (uint i = 0; i < section.Info; i++)
                {
                    uint aux = elf.U32(offset + 12);
                    uint next = elf.U32(offset + 16);
                    uint name = elf.U32(offset + aux);
                    result.Add(elf.String(strtab, name));
                    if (next == 0)
                    {
                        break;
                    }

                    offset += next;
                }
            }

            return result;
        }

        /// <summary>
        /// Marks as weak every version that <paramref name="libraryPath"/> needs from
        /// <paramref name="dependencySoname"/> but <paramref name="available"/> lacks, provided each such
        /// version is bound only to marker symbols. With <paramref name="available"/> null, every
        /// marker-only version is weakened whatever the system has. Writes through a temporary file and a rename, so a
        /// hard link to the original (for example in the NuGet cache) is never modified.
        /// </summary>
        public static ElfPatchOutcome WeakenMissingMarkerVersions(
            string libraryPath, string dependencySoname, ISet<string>? available, out string detail)
        {
            byte[] bytes = File.ReadAllBytes(libraryPath);
            var elf = ElfImage.TryRead(bytes);
            if (elf == null)
            {
                detail = "not a 64-bit little-endian ELF file";
                return ElfPatchOutcome.NotApplicable;
            }

            var needs = ReadNeeds(elf, dependencySoname);
            if (needs.Count == 0)
            {
                detail = "no version needs on " + dependencySoname;
                return ElfPatchOutcome.NotApplicable;
            }

            var toWeaken = new List<VersionNeed>();
            foreach (var need in needs)
            {
                if (need.IsWeak)
                {
                    continue;
                }

                if (available == null ? IsMarkerOnly(elf, need) : !available.Contains(need.Name))
                {
                    toWeaken.Add(need);
                }
            }

            if (toWeaken.Count == 0)
            {
                detail = "every needed " + dependencySoname + " version is available or already weak";
                return ElfPatchOutcome.NotNeeded;
            }

            foreach (var need in toWeaken)
            {
                var bound = SymbolsBoundTo(elf, need.Index);
                foreach (var symbol in bound)
                {
                    if (Array.IndexOf(MarkerOnlySymbols, symbol) < 0)
                    {
                        detail = need.Name + " is missing and is needed by symbol " + symbol
                            + ", which would be called at run time; refusing to weaken it";
                        return ElfPatchOutcome.Unsafe;
                    }
                }
            }

            var names = new List<string>();
            foreach (var need in toWeaken)
            {
                ushort flags = (ushort)(need.Flags | VerFlgWeak);
                bytes[need.FlagsOffset] = (byte)(flags & 0xff);
                bytes[need.FlagsOffset + 1] = (byte)(flags >> 8);
                names.Add(need.Name);
            }

            // Keep the original timestamp: MSBuild's incremental copy compares size and time, so the
            // patched copy is then left alone instead of being re-copied and re-patched every build.
            DateTime lastWrite = File.GetLastWriteTimeUtc(libraryPath);
            string temporary = libraryPath + ".compat-" + Guid.NewGuid().ToString("N");
            File.WriteAllBytes(temporary, bytes);
            File.Delete(libraryPath);
            File.Move(temporary, libraryPath);
            File.SetLastWriteTimeUtc(libraryPath, lastWrite);
            detail = "marked weak: " + string.Join(", ", names.ToArray());
            return ElfPatchOutcome.Patched;
        }

        private static bool IsMarkerOnly(ElfImage elf, VersionNeed need)
        {
            var bound = SymbolsBoundTo(elf, need.Index);
            return bound.Count > 0 && bound.TrueForAll(symbol => Array.IndexOf(MarkerOnlySymbols, symbol) >= 0);
        }

        /// <summary>The version needs of a library on one dependency, with their flags.</summary>
        public static List<VersionNeed> ReadNeeds(string libraryPath, string dependencySoname)
        {
            var elf = ElfImage.TryRead(File.ReadAllBytes(libraryPath));
            return elf == null ? new List<VersionNeed>() : ReadNeeds(elf, dependencySoname);
        }

        private static List<VersionNeed> ReadNeeds(ElfImage elf, string dependencySoname)
        {
            var result = new List<VersionNeed>();
            foreach (var section in elf.Sections)
            {
                if (section.Type != ShtGnuVerneed)
                {
                    continue;
                }

                var strtab = elf.Sections[(int)section.Link];
                long offset = (long)section.Offset;
                for (uint i = 0; i < section.Info; i++)
                {
                    ushort count = elf.U16(offset + 2);
                    string file = elf.String(strtab, elf.U32(offset + 4));
                    uint aux = elf.U32(offset + 8);
                    uint next = elf.U32(offset + 12);
                    if (file == dependencySoname)
                    {
                        long auxOffset = offset + aux;
                        for (int j = 0; j < count; j++)
                        {
                            result.Add(new VersionNeed(
                                elf.String(strtab, elf.U32(auxOffset + 8)),
                                elf.U16(auxOffset + 4),
                                elf.U16(auxOffset + 6),
                                auxOffset + 4));
                            uint auxNext = elf.U32(auxOffset + 12);
                            if (auxNext == 0)
                            {
                                break;
                            }

                            auxOffset += auxNext;
                        }
                    }

                    if (next == 0)
                    {
                        break;
                    }

                    offset += next;
                }
            }

            return result;
        }

        private static List<string> SymbolsBoundTo(ElfImage elf, ushort versionIndex)
        {
            var result = new List<string>();
            ElfSection? dynsym = null;
            ElfSection? versym = null;
            foreach (var section in elf.Sections)
            {
                if (section.Type == ShtDynsym)
                {
                    dynsym = section;
                }
                else if (section.Type == ShtGnuVersym)
                {
                    versym = section;
                }
            }

            if (dynsym == null || versym == null)
            {
                return result;
            }

            var strtab = elf.Sections[(int)dynsym.Link];
            long symbolCount = (long)(dynsym.Size / 24);
            for (long i = 0; i < symbolCount; i++)
            {
                ushort version = (ushort)(elf.U16((long)versym.Offset + (i * 2)) & 0x7fff);
                if (version == versionIndex)
                {
                    result.Add(elf.String(strtab, elf.U32((long)dynsym.Offset + (i * 24))));
                }
            }

            return result;
        }
    }

    /// <summary>One Vernaux entry: a version name needed from a dependency.</summary>
    public sealed class VersionNeed
    {
        /// <summary>Creates an entry.</summary>
        public VersionNeed(string name, ushort flags, ushort index, long flagsOffset)
        {
            Name = name;
            Flags = flags;
            Index = index;
            FlagsOffset = flagsOffset;
        }

        /// <summary>The version name, for example GLIBCXX_3.4.32.</summary>
        public string Name { get; }

        /// <summary>The vna_flags field; 0x2 means weak.</summary>
        public ushort Flags { get; }

        /// <summary>The version index that .gnu.version entries use to bind symbols to this need.</summary>
        public ushort Index { get; }

        /// <summary>File offset of vna_flags.</summary>
        public long FlagsOffset { get; }

        /// <summary>True when the loader tolerates this version's absence.</summary>
        public bool IsWeak => (Flags & 0x2) != 0;
    }

    internal sealed class ElfSection
    {
        public uint Name;
        public uint Type;
        public ulong Offset;
        public ulong Size;
        public uint Link;
        public uint Info;
    }

    internal sealed class ElfImage
    {
        private readonly byte[] _bytes;

        private ElfImage(byte[] bytes, List<ElfSection> sections)
        {
            _bytes = bytes;
            Sections = sections;
        }

        public List<ElfSection> Sections { get; }

        public static ElfImage? TryRead(byte[] bytes)
        {
            bool isElf64Le = bytes.Length > 64 && bytes[0] == 0x7f && bytes[1] == (byte)'E'
                && bytes[2] == (byte)'L' && bytes[3] == (byte)'F' && bytes[4] == 2 && bytes[5] == 1;
            if (!isElf64Le || !BitConverter.IsLittleEndian)
            {
                return null;
            }

            ulong sectionHeaders = BitConverter.ToUInt64(bytes, 0x28);
            ushort entrySize = BitConverter.ToUInt16(bytes, 0x3A);
            ushort count = BitConverter.ToUInt16(bytes, 0x3C);
            if (entrySize < 64 || sectionHeaders + ((ulong)count * entrySize) > (ulong)bytes.Length)
            {
                return null;
            }

            var sections = new List<ElfSection>(count);
            for (int i = 0; i < count; i++)
            {
                int at = (int)sectionHeaders + (i * entrySize);
                var section = new ElfSection
                {
                    Name = BitConverter.ToUInt32(bytes, at),
                    Type = BitConverter.ToUInt32(bytes, at + 4),
                    Offset = BitConverter.ToUInt64(bytes, at + 24),
                    Size = BitConverter.ToUInt64(bytes, at + 32),
                    Link = BitConverter.ToUInt32(bytes, at + 40),
                    Info = BitConverter.ToUInt32(bytes, at + 44),
                };
                sections.Add(section);
            }

            return new ElfImage(bytes, sections);
        }

        public ushort U16(long offset) => BitConverter.ToUInt16(_bytes, checked((int)offset));

        public uint U32(long offset) => BitConverter.ToUInt32(_bytes, checked((int)offset));

        public string String(ElfSection strtab, uint offset)
        {
            int start = checked((int)(strtab.Offset + offset));
            int end = start;
            while (end < _bytes.Length && _bytes[end] != 0)
            {
                end++;
            }

            return Encoding.ASCII.GetString(_bytes, start, end - start);
        }
    }

#if !ML_DEEPEXTENSIONS_NO_MSBUILD_TASK
    /// <summary>
    /// MSBuild task: makes the libLibTorchSharp.so copies under the given folders loadable on systems
    /// whose libstdc++ lacks the marker-only version (Debian 12 and similar). A no-op elsewhere.
    /// </summary>
    public sealed class PatchLibTorchSharpForSystemLibstdcxx : Microsoft.Build.Utilities.Task
    {
        private static readonly string[] LibstdcxxCandidates =
        {
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
            "/lib/aarch64-linux-gnu/libstdc++.so.6",
            "/usr/lib64/libstdc++.so.6",
            "/lib64/libstdc++.so.6",
            "/usr/lib/libstdc++.so.6",
        };

        /// <summary>Files to inspect (libLibTorchSharp.so copies in the output or publish folder).</summary>
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Libraries { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        /// <summary>"auto" (default: patch when the system libstdc++ lacks a version), "always" or "never".</summary>
        public string Mode { get; set; } = "auto";

        /// <summary>Overrides the libstdc++ whose versions count as available (for tests).</summary>
        public string SystemLibstdcxx { get; set; } = "";

        /// <inheritdoc />
        public override bool Execute()
        {
            if (string.Equals(Mode, "never", StringComparison.OrdinalIgnoreCase) || Libraries.Length == 0)
            {
                return true;
            }

            HashSet<string>? available = null;
            if (!string.Equals(Mode, "always", StringComparison.OrdinalIgnoreCase))
            {
                string? system = string.IsNullOrEmpty(SystemLibstdcxx) ? FindSystemLibstdcxx() : SystemLibstdcxx;
                if (system == null)
                {
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                        "ML.DeepExtensions: no system libstdc++.so.6 found; libLibTorchSharp.so left as shipped.");
                    return true;
                }

                available = ElfVersionNeeds.ReadDefinedVersions(system);
            }

            foreach (var item in Libraries)
            {
                string path = item.ItemSpec;
                if (!File.Exists(path))
                {
                    continue;
                }

                var outcome = ElfVersionNeeds.WeakenMissingMarkerVersions(path, "libstdc++.so.6", available, out string detail);
                switch (outcome)
                {
                    case ElfPatchOutcome.Patched:
                        Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                            "ML.DeepExtensions: made " + path + " loadable on this system's libstdc++ (" + detail + ").");
                        break;
                    case ElfPatchOutcome.Unsafe:
                        Log.LogWarning("ML.DeepExtensions: " + path + " needs a newer libstdc++ than this system has: " + detail
                            + ". Install a newer libstdc++ or use a TorchSharp build made for this distribution.");
                        break;
                    default:
                        Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low,
                            "ML.DeepExtensions: " + path + ": " + detail + ".");
                        break;
                }
            }

            return true;
        }

        private static string? FindSystemLibstdcxx()
        {
            foreach (var candidate in LibstdcxxCandidates)
            {
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            return null;
        }
    }
#endif
}
