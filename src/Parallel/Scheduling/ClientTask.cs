using PyMpiBridge.Parallel.Wire;

namespace PyMpiBridge.Parallel.Scheduling;

/// <summary>
/// One task of this client, from submission until its result is final: what to send, where its result goes, and for
/// load-balanced tasks what the balancer decides on (allowed engines, dependencies, retries, deadline). Mutable fields
/// change only under the client's scheduling lock.
/// </summary>
internal sealed class ClientTask(ulong seq, string msgId, TaskKind kind, byte flags, IReadOnlyList<FramePart> payload,
    AsyncResult result, int index)
{
    public ulong Seq { get; } = seq;
    public string MsgId { get; } = msgId;
    public TaskKind Kind { get; } = kind;
    public byte Flags { get; } = flags;
    /// <summary>The frame parts after the header; kept while the task may be sent (again).</summary>
    public IReadOnlyList<FramePart> Payload { get; } = payload;
    public AsyncResult Result { get; } = result;
    /// <summary>This task's position in <see cref="Result"/>.</summary>
    public int Index { get; } = index;

    /// <summary>Unix seconds of the last send (the protocol's <c>submitted</c>).</summary>
    public double Submitted { get; set; }
    /// <summary>The engine it was sent to last; null while queued in the balancer.</summary>
    public int? Engine { get; set; }

    // ---- load balancing (null/0 for direct tasks) ----
    public bool Balanced { get; init; }
    public int RetriesLeft { get; set; }
    /// <summary>Engines that already failed this task: a retry goes elsewhere.</summary>
    public HashSet<int>? Tried { get; set; }
    /// <summary>The engines it may run on (null: any).</summary>
    public IReadOnlySet<int>? Allowed { get; init; }
    public Dependency? After { get; init; }
    public Dependency? Follow { get; init; }
    /// <summary>When it must have started (<see cref="Environment.TickCount64"/>), or null.</summary>
    public long? Deadline { get; init; }

    /// <summary>Tasks of the balancer that only some engines may run (restricted, followed, or retried).</summary>
    public bool Constrained => Allowed is not null || Tried is not null || Follow is not null;
}
