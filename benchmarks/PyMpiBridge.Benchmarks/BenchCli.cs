using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace PyMpiBridge.Benchmarks;

/// <summary>Option shapes the suites share (System.CommandLine), with messages that name the option and the value.</summary>
internal static class BenchCli
{
    /// <summary>A whole number ≥ 1 (≥ <paramref name="minimum"/>, explained by <paramref name="why"/>).</summary>
    public static Option<int> PositiveInt(string name, string helpName, string description, int defaultValue, int minimum = 1, string? why = null) => new(name)
    {
        Description = description,
        HelpName = helpName,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r =>
        {
            string text = r.Tokens[0].Value;
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n <= 0)
                r.AddError($"{name} needs a positive whole number, not '{text}'.");
            else if (n < minimum)
                r.AddError($"{name} needs at least {minimum} {why}, not '{text}'.");
            return n;
        },
    };

    /// <summary>A comma list of some of <paramref name="choices"/> (in the order given, without repeats).</summary>
    public static Option<IReadOnlyList<string>> CommaList(string name, IReadOnlyList<string> choices, string description) => new(name)
    {
        Description = description,
        HelpName = string.Join(",", choices),
        DefaultValueFactory = _ => choices,
        CustomParser = r =>
        {
            string[] words = r.Tokens[0].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var unknown = words.Except(choices).ToList();
            if (words.Length == 0 || unknown.Count > 0)
                r.AddError($"{name} takes a comma list of {string.Join(",", choices)}; unknown: {string.Join(",", unknown)}");
            return words.Distinct().ToList();
        },
    };

    /// <summary>Parses <paramref name="args"/> against <paramref name="command"/>; bad input throws <see cref="UsageException"/>.</summary>
    public static ParseResult ParseOrThrow(Command command, IReadOnlyList<string> args)
    {
        var result = command.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (result.Errors.Count > 0)
            throw new UsageException(string.Join(Environment.NewLine, result.Errors.Select(e => e.Message)));
        return result;
    }
}
