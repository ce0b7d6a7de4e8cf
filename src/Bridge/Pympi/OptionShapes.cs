using System.CommandLine;
using System.CommandLine.Parsing;

namespace PyMpiBridge.Options;

/// <summary>
/// Option shapes shared by the <c>pympi</c> tool and the benchmark program (compiled into both: the benchmarks link
/// this file), so a choice is offered, completed and refused the same way whichever command line takes it.
/// </summary>
internal static class OptionShapes
{
    /// <summary>
    /// An option taking one of <paramref name="choices"/> (the first is the default): shown in help, offered by
    /// completion, and a wrong value named with the option and the choices.
    /// </summary>
    public static Option<string> OneOf(string name, string description, params string[] choices)
    {
        var option = new Option<string>(name)
        {
            Description = description,
            HelpName = string.Join('|', choices),
            DefaultValueFactory = _ => choices[0],
            CustomParser = r =>
            {
                string text = r.Tokens[0].Value;
                if (!choices.Contains(text)) r.AddError($"{OptionName(r)} must be one of {string.Join(", ", choices)}; got '{text}'.");
                return text;
            },
        };
        option.CompletionSources.Add(choices);
        return option;
    }

    /// <summary>The option as the user wrote it (<c>-np</c> or <c>-n</c>), else its name.</summary>
    public static string OptionName(ArgumentResult result)
        => result.Parent is OptionResult o ? o.IdentifierToken?.Value ?? o.Option.Name : result.Argument.Name;
}
