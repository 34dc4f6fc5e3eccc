using System.Text.RegularExpressions;
using EchoServer.Hosting;
using EchoServer.TestSupport;
using NetArchTest.Rules;

namespace EchoServer.Tests.Layout;

/// <summary>
/// Holds the server's folders to the "may use" column of src/README.md's table of rooms, read from the markdown
/// itself, so that the design page and the code cannot drift apart: a folder uses exactly the folders its row
/// names (or any, for "everything").
/// </summary>
public sealed partial class LayoutTests
{
    private const string Root = "EchoServer";

    [Fact]
    public void Every_folder_uses_exactly_the_folders_its_row_in_the_design_page_names()
    {
        var rooms = ReadRooms();
        var folders = rooms.Keys.Where(k => !k.EndsWith(".cs", StringComparison.Ordinal)).ToList();
        Assert.True(folders.Count >= 7, $"the table of rooms lists {folders.Count} folders: {string.Join(", ", folders)}");
        var assembly = typeof(ServerOptions).Assembly;
        var unlisted = Types.InAssembly(assembly).GetTypes()
            .Select(t => t.Namespace)
            .Where(ns => ns is not null && ns != Root)
            .Select(ns => ns![(Root.Length + 1)..].Split('.')[0])
            .Distinct()
            .Where(folder => !folders.Contains(folder))
            .ToList();
        Assert.True(unlisted.Count == 0, $"folders missing from the table of rooms: {string.Join(", ", unlisted)}");

        var problems = new List<string>();
        foreach (var (room, allowed) in rooms)
        {
            // The fluent predicates add up: every question starts from a fresh selection.
            Predicates Types() => room.EndsWith(".cs", StringComparison.Ordinal)
                ? NetArchTest.Rules.Types.InAssembly(assembly).That().HaveNameStartingWith(room[..^3]).And().ResideInNamespaceMatching($"^{Root}$").And()
                : NetArchTest.Rules.Types.InAssembly(assembly).That().ResideInNamespace($"{Root}.{room}").And();
            var used = folders
                .Where(other => other != room && Types().HaveDependencyOn($"{Root}.{other}").GetTypes().Any())
                .ToHashSet();
            var expected = allowed ?? [.. folders.Where(f => f != room)];
            foreach (var extra in used.Except(expected).Order())
            {
                var users = Types().HaveDependencyOn($"{Root}.{extra}").GetTypes().Select(t => t.Name);
                problems.Add($"{room} uses {extra} (in {string.Join(", ", users)}), which its row does not name");
            }

            if (allowed is not null)
            {
                problems.AddRange(allowed.Except(used).Order().Select(missing => $"{room}'s row names {missing}, which it does not use"));
            }
        }

        Assert.True(problems.Count == 0, "src/README.md's table of rooms and the code disagree:\n" + string.Join("\n", problems));
    }

    [Fact]
    public void Every_option_takes_effect_in_one_file_the_design_page_names()
    {
        string design = File.ReadAllText(Path.Combine(Repository.Root, "src", "README.md"));
        string section = design[design.IndexOf("## Where each option takes effect", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 3, StringComparison.Ordinal)];
        var files = new Dictionary<string, string>();
        foreach (var cells in section.Split('\n').Where(l => l.StartsWith("| `--", StringComparison.Ordinal)).Select(l => l.Trim().Trim('|').Split(" | ")))
        {
            var named = Backticked().Matches(cells[1]).Select(m => m.Groups[1].Value).ToList();
            string file = Assert.Single(named);
            Assert.True(File.Exists(Path.Combine(Repository.Root, "src", "EchoServer", file)), $"src/EchoServer/{file} (for {cells[0]}) does not exist");
            foreach (string option in Backticked().Matches(cells[0]).Select(m => m.Groups[1].Value))
            {
                Assert.True(files.TryAdd(option, file), $"{option} has two rows");
            }
        }

        var options = new EchoServer.Cli.ServerCommand().Root.Options.Select(o => o.Name).Where(n => n.StartsWith("--", StringComparison.Ordinal) && n is not "--help" and not "--version").ToList();
        Assert.NotEmpty(options);
        Assert.Empty(options.Except(files.Keys));
        Assert.Empty(files.Keys.Except(options));
    }

    /// <summary>Each row of the table of rooms: the folder (or root file) and the folders it may use; null for "everything".</summary>
    private static Dictionary<string, HashSet<string>?> ReadRooms()
    {
        string design = File.ReadAllText(Path.Combine(Repository.Root, "src", "README.md"));
        string section = design[design.IndexOf("## The rooms", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 3, StringComparison.Ordinal)];
        var rows = section.Split('\n')
            .Where(line => line.StartsWith("| `", StringComparison.Ordinal))
            .Select(line => line.Trim().Trim('|').Split(" | "))
            .ToList();
        Assert.NotEmpty(rows);
        var names = rows.Select(cells => cells[0].Trim().Trim('`').TrimEnd('/')).ToList();
        var rooms = new Dictionary<string, HashSet<string>?>();
        foreach (var (cells, name) in rows.Zip(names))
        {
            string mayUse = cells[^1];
            rooms[name] = mayUse.StartsWith("everything", StringComparison.Ordinal)
                ? null
                : [.. Backticked().Matches(mayUse).Select(m => m.Groups[1].Value).Where(n => names.Contains(n) && !n.EndsWith(".cs", StringComparison.Ordinal))];
        }

        return rooms;
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Backticked();
}
