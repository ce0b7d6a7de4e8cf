using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using PyMpiBridge.Options;

namespace PyMpiBridge.Tool;

/// <summary>
/// The <c>pympi</c> command line, defined once with System.CommandLine: each command file contributes its
/// <c>Create()</c>; parsing, <c>--help</c>, validation messages and completions (<c>[suggest]</c>,
/// <c>pympi completion bash</c>) all come from these definitions.
/// </summary>
public static class Cli
{
    /// <summary>The whole tool: run, cluster, info, demo, bench, completion, and the hidden command ranks run.</summary>
    public static RootCommand CreateRoot()
    {
        var root = new RootCommand("PyMpiBridge: MPI programs mixing C# and Python in every rank, and the tools around them.")
        {
            RunCommand.Create(),
            ClusterCommand.Create(),
            InfoCommand.Create(),
            DemoCommand.Create(),
            BenchCommand.Create(),
            CompletionCommand.Create(),
            RunCommand.CreateRankCommand(),
        };
        BenchCommand.ForwardHelp(root);
        // `pympi` alone shows the help, and fails: a command was expected.
        root.SetAction(result =>
        {
            new HelpAction().Invoke(result);
            return 2;
        });
        return root;
    }

    /// <summary>
    /// No response files: <c>@name</c> is an ordinary word for the programs <c>pympi run</c> starts.
    /// </summary>
    public static readonly ParserConfiguration Configuration = new() { ResponseFileTokenReplacer = null };

    /// <summary>
    /// Parses a whole command line. Commands that start a program (<c>run</c>, <c>__rank</c>) stop reading options at
    /// the program: the words after it are marked with <c>--</c>, so the parser hands them over untouched.
    /// </summary>
    public static ParseResult Parse(RootCommand root, IReadOnlyList<string> args)
    {
        if (args.Count > 0 && root.Subcommands.FirstOrDefault(c => c.Name == args[0]) is { } command && RunCommand.StartsProgram(command))
        {
            var rest = args.Skip(1).ToList();
            var (start, separated) = ProgramArgumentsStart(command, rest, RunCommand.TargetOptionNames);
            if (start < rest.Count && !separated) rest.Insert(start, "--");
            return root.Parse([args[0], .. rest], Configuration);
        }
        return root.Parse(args, Configuration);
    }

    /// <summary>
    /// Where the program's own words begin in <paramref name="args"/> (the words after a command's name): after the
    /// first word that is not an option of <paramref name="command"/> or a value of one (the script), after the value
    /// of a target option (<c>-m module</c>, <c>-c code</c>), or after <c>-- script</c>. Options are recognized from the
    /// command's definition (names, aliases, <c>--name=value</c>, and whether they take a value).
    /// </summary>
    /// <returns>The index, and whether the user already wrote the <c>--</c> before it.</returns>
    internal static (int Start, bool Separated) ProgramArgumentsStart(Command command, IReadOnlyList<string> args, IReadOnlySet<string> targetOptions)
    {
        var options = command.Options.Concat(command.Parents.OfType<Command>().SelectMany(p => p.Options).Where(o => o.Recursive)).ToList();
        for (int i = 0; i < args.Count; i++)
        {
            string word = args[i];
            if (word == "--") return (Math.Min(i + 2, args.Count), true);
            int eq = word.StartsWith("--", StringComparison.Ordinal) ? word.IndexOf('=') : -1;
            string name = eq > 0 ? word[..eq] : word;
            var option = options.FirstOrDefault(o => o.Name == name || o.Aliases.Contains(name));
            if (option is null)
            {
                if (word.Length > 1 && word.StartsWith('-')) continue; // an unknown option: the parser reports it
                return (i + 1, false);                                 // the script
            }
            bool takesValue = eq < 0 && option.Arity.MaximumNumberOfValues > 0;
            if (targetOptions.Contains(option.Name)) return (Math.Min(takesValue ? i + 2 : i + 1, args.Count), false);
            if (takesValue) i++;
        }
        return (args.Count, false);
    }

    /// <summary>The command path of a parse result, for messages: <c>pympi cluster start</c>.</summary>
    public static string CommandPath(ParseResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result.CommandResult; r is CommandResult c; r = c.Parent)
            names.Add(c.Parent is null ? "pympi" : c.Command.Name);
        names.Reverse();
        return string.Join(' ', names);
    }

    /// <summary>
    /// Parse errors as the tool reports them: each error on a line of its own, prefixed by the command, then where
    /// to find the usage. Exit code 2, as before.
    /// </summary>
    public static int ReportErrors(ParseResult result, TextWriter error)
    {
        string path = CommandPath(result);
        foreach (var e in result.Errors) error.WriteLine($"{path}: {e.Message}");
        error.WriteLine($"Run '{path} --help' for usage.");
        return 2;
    }

    /// <summary>A whole number ≥ <paramref name="minimum"/>; the error names the option and the value given.</summary>
    public static int WholeNumber(ArgumentResult result, int minimum, string what)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) && n >= minimum) return n;
        result.AddError($"{OptionShapes.OptionName(result)} needs {what}, got '{text}'.");
        return minimum;
    }

    /// <summary>A positive number of seconds (fractions allowed).</summary>
    public static double PositiveSeconds(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s > 0 && double.IsFinite(s)) return s;
        result.AddError($"{OptionShapes.OptionName(result)} needs a positive number of seconds, got '{text}'.");
        return 1;
    }

    /// <summary>Seconds as Python reads them back (<c>float()</c>), independent of the culture.</summary>
    public static string Seconds(double s) => s.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>Bad command-line input found while running a command: the message says what was wrong and what to do.</summary>
public sealed class UsageException(string message) : Exception(message);
