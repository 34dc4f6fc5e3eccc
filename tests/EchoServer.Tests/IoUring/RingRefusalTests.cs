using EchoServer.TestSupport;

namespace EchoServer.Tests.IoUring;

/// <summary>A kernel that refuses io_uring (here a seccomp filter, as a container's profile would) makes <c>--io-engine io_uring</c> exit 2 with one line.</summary>
public sealed class RingRefusalTests
{
    // Installs a seccomp filter that answers io_uring_setup (425 on x86-64 and arm64) with EPERM, then runs its arguments.
    private const string Launcher = """
        #include <errno.h>
        #include <linux/filter.h>
        #include <linux/seccomp.h>
        #include <stddef.h>
        #include <stdio.h>
        #include <sys/prctl.h>
        #include <unistd.h>
        int main(int argc, char **argv) {
            struct sock_filter filter[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 425, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
            };
            struct sock_fprog program = { sizeof filter / sizeof filter[0], filter };
            if (argc < 2 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program)) { perror("seccomp"); return 126; }
            execvp(argv[1], argv + 1);
            perror("exec");
            return 127;
        }
        """;

    [Fact]
    public async Task Under_a_filter_that_refuses_io_uring_the_engine_exits_2_with_one_line_and_sockets_still_start()
    {
        if (!OperatingSystem.IsLinux() || !ServerProcess.IsOnPath("gcc"))
        {
            return; // the filter is Linux's, built with gcc
        }

        string folder = Directory.CreateTempSubdirectory("no-uring-").FullName;
        try
        {
            string source = Path.Combine(folder, "no-uring.c");
            string launcher = Path.Combine(folder, "no-uring");
            await File.WriteAllTextAsync(source, Launcher);
            await Command.RunCheckedAsync("gcc", ["-O1", "-o", launcher, source], TimeSpan.FromSeconds(60));

            using (var refused = ServerProcess.StartUnder([launcher], "--port", "0", "--io-engine", "io_uring"))
            {
                Assert.Equal(2, await refused.WaitForExitAsync(TimeSpan.FromSeconds(30)));
                var line = Assert.Single(refused.Stderr);
                Assert.StartsWith("echo-server: --io-engine io_uring: the kernel refuses io_uring (io_uring_setup failed: EPERM", line, StringComparison.Ordinal);
                Assert.Contains("use --io-engine sockets.", line, StringComparison.Ordinal);
                Assert.Empty(refused.Stdout);
            }

            // The same filter leaves the default engine alone: the refusal is the engine's, not the process's.
            using var sockets = ServerProcess.StartUnder([launcher], "--port", "0", "--io-engine", "sockets");
            var endPoint = await sockets.WaitForListeningAsync();
            using var client = await EchoClient.ConnectAsync(endPoint);
            Assert.Equal([1, 2], await client.RoundTripAsync([1, 2]));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
