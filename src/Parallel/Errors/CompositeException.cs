namespace PyMpiBridge.Parallel;

/// <summary>Tasks on several engines failed (ipyparallel's <c>CompositeError</c>); <see cref="AggregateException.InnerExceptions"/> holds each.</summary>
public sealed class CompositeException(string method, IEnumerable<Exception> errors)
    : AggregateException($"one or more exceptions from call to method: {method}", errors);
