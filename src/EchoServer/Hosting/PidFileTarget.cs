using System.Runtime.InteropServices;

namespace EchoServer.Hosting;

/// <summary>
/// What a --pid-file path names. The file is replaced by a rename and removed at exit, which would turn a
/// device node (say /dev/null, given by mistake) into a regular file and then delete it: only a missing path or
/// a regular file may be written.
/// </summary>
internal static partial class PidFileTarget
{
    private const int AtCurrentDirectory = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const int FileTypeMask = 0xF000;

    /// <summary>The file to write for <paramref name="path"/> (symbolic links followed); throws <see cref="StartupException"/> when it is not a regular file.</summary>
    public static string Resolve(string path)
    {
        string full = Path.GetFullPath(path);
        string target = KindOf(full) == FileKind.SymbolicLink && new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true) is { } final
            ? final.FullName
            : full;
        EnsureWritable(path, target);
        return target;
    }

    /// <summary>Throws <see cref="StartupException"/> unless <paramref name="target"/> is missing or a regular file.</summary>
    public static void EnsureWritable(string given, string target)
    {
        if (KindOf(target) is not (FileKind.Missing or FileKind.Regular) and var kind)
        {
            string what = kind switch
            {
                FileKind.Directory => "a directory",
                FileKind.CharacterDevice => "a character device",
                FileKind.BlockDevice => "a block device",
                FileKind.Fifo => "a named pipe",
                FileKind.Socket => "a socket",
                _ => "not a regular file",
            };
            string via = target == Path.GetFullPath(given) ? string.Empty : $" ({target})";
            throw new StartupException($"--pid-file {given}{via} is {what}; it takes the path of a regular file, or of one to create.");
        }
    }

    /// <summary>True when <paramref name="path"/> is a regular file (not followed if a symbolic link).</summary>
    public static bool IsRegularFile(string path) => KindOf(path) == FileKind.Regular;

    private static FileKind KindOf(string path)
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            try
            {
                return KindFromMode(UnixMode(path));
            }
            catch (EntryPointNotFoundException)
            {
                // A C library older than statx (glibc 2.28, musl 1.2.5): tell folders and links apart at least.
            }
        }

        var info = new FileInfo(path);
        return info.LinkTarget is not null ? FileKind.SymbolicLink
            : Directory.Exists(path) ? FileKind.Directory
            : info.Exists ? FileKind.Regular
            : FileKind.Missing;
    }

    private static FileKind KindFromMode(int? mode) => (mode & FileTypeMask) switch
    {
        null => FileKind.Missing,
        0x8000 => FileKind.Regular,
        0x4000 => FileKind.Directory,
        0xA000 => FileKind.SymbolicLink,
        0x2000 => FileKind.CharacterDevice,
        0x6000 => FileKind.BlockDevice,
        0x1000 => FileKind.Fifo,
        0xC000 => FileKind.Socket,
        _ => FileKind.Other,
    };

    /// <summary>
    /// st_mode, or null when the path cannot be examined (missing, or a parent is not a folder: writing it then
    /// fails with the system's own message). .NET reports no file type beyond folder and link, so ask the system:
    /// statx on Linux (one layout on every architecture, mode at byte 28), lstat on macOS (mode at byte 4).
    /// </summary>
    private static unsafe int? UnixMode(string path)
    {
        byte* buffer = stackalloc byte[256];
        if (OperatingSystem.IsLinux())
        {
            return Statx(AtCurrentDirectory, path, AtSymlinkNoFollow, StatxType, buffer) == 0 ? *(ushort*)(buffer + 28) : null;
        }

        return LStat(path, buffer) == 0 ? *(ushort*)(buffer + 4) : null;
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int directory, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "lstat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int LStat(string path, byte* buffer);

    private enum FileKind
    {
        Missing,
        Regular,
        Directory,
        SymbolicLink,
        CharacterDevice,
        BlockDevice,
        Fifo,
        Socket,
        Other,
    }
}
