using PyMpiBridge.Parallel.Pickling;
using PyMpiBridge.Parallel.Wire;

namespace PyMpiBridge.Parallel;

/// <summary>
/// A task record of the controller's database (PROTOCOL.md, <c>get_records</c>; keys as <c>_db.SCHEMA</c>) as the task's
/// outcome: its value (unpickled from <c>result_buffers</c>), its error, its metadata.
/// </summary>
internal static class TaskRecords
{
    public static (object? Value, Exception? Error, TaskMetadata Metadata) Outcome(Dictionary<object, object?> record, bool ndArrays)
    {
        T? Field<T>(string key) => record.TryGetValue(key, out var v) && v is T t ? t : default;
        string msgId = Field<string>("msg_id") ?? "?";
        int engine = (int)Field<long>("engine_id");
        string status = Field<string>("status") ?? "unknown";
        string method = Field<string>("method") ?? "apply";
        var submitted = record.TryGetValue("submitted", out var s) && s is DateTime d ? d : DateTime.MinValue;
        var metadata = new TaskMetadata(msgId, engine, Field<string>("engine_uuid") ?? "", submitted,
            record.GetValueOrDefault("started") as DateTime?, record.GetValueOrDefault("completed") as DateTime?,
            record.GetValueOrDefault("received") as DateTime? ?? submitted, status, Field<string>("stdout") ?? "", Field<string>("stderr") ?? "");
        switch (status)
        {
            case "ok":
                if (method == "execute") return (null, null, metadata);
                if (Field<System.Collections.IList>("result_buffers") is not { Count: > 0 } buffers)
                    return (null, new InvalidOperationException(
                        $"task {msgId} succeeded on engine {engine}, but its result was not kept in the task database (engines keep " +
                        "results up to their db_result_limit, 1 MiB by default): return smaller results, or keep the AsyncResult"), metadata);
                try
                {
                    var parts = buffers.Cast<object?>().Skip(1).Select(b => new ReceivedPart(b as byte[] ?? throw new InvalidDataException("a result buffer is not bytes"))).ToList();
                    return (PickleReader.Loads((byte[])buffers[0]!, parts, ndArrays), null, metadata);
                }
                catch (Exception e) when (e is UnsupportedPickleException or InvalidDataException or InvalidCastException)
                {
                    return (null, new RemoteException(engine, method, e.GetType().Name, $"could not read the result here: {e.Message}", null), metadata);
                }
            case "aborted":
                return (null, new TaskAbortedException($"task {msgId} was aborted on engine {engine} before it ran"), metadata);
            default:
                var error = Field<Dictionary<object, object?>>("error");
                string Part(string key) => error is not null && error.TryGetValue(key, out var v) && v is not null ? v.ToString()! : "";
                return (null, new RemoteException(engine, method, error is null ? "UnknownError" : Part("ename"),
                    error is null ? $"the task ended with status {status}" : Part("evalue"), error is null ? null : Part("traceback")), metadata);
        }
    }
}
