/*
 * mpi_bench.c - native C baseline for `pympi bench mpi` (impl "c").
 *
 * METHODOLOGY (identical in mpi_bench.c, mpi4py_bench.py and MpiBenchWorker.cs;
 * see benchmarks/README.md). Any change here must be made in all three.
 *   - Exactly 2 ranks. Buffers are allocated once per size and touched before timing.
 *   - MPI thread level: MPI_THREAD_MULTIPLE by default (`--thread-level single|multiple`), the level
 *     our bridge and mpi4py run at. Open MPI takes locks on its fast paths at MULTIPLE, so comparing a
 *     SINGLE baseline with a MULTIPLE binding would measure Open MPI's locking, not the binding.
 *   - iterations(size) = clamp(2^27 / size, 10, 10000): many for small messages, few for 16 MiB.
 *   - warm-up: max(2, iterations / 10) untimed iterations before the first repeat.
 *   - repeats: R (default 9, `--repeats R`); each repeat starts with MPI_Barrier, then times
 *     `iterations` operations with MPI_Wtime on rank 0.
 *   - The reported value is the BEST repeat (minimum time): on a shared 2-core machine the
 *     noise only ever adds time, so the minimum is the most reproducible estimate of the cost.
 *   - ping-pong (ranks 0 <-> 1, MPI_BYTE, tag 1): latency_us = half round-trip time;
 *     bandwidth_MBps = size / (half round trip) / 1e6, reported for sizes >= 1 KiB.
 *     Sizes: 8 B, 1 KiB, 64 KiB, 1 MiB, 16 MiB.
 *   - allreduce (MPI_DOUBLE, MPI_SUM on all ranks): latency_us = time per call.
 *     Sizes: 8 B * 4^k up to 8 MiB (8 B, 32 B, ..., 2 MiB, 8 MiB).
 *   - Results are checked after timing (echoed pattern; sum of rank+1), so a broken
 *     implementation fails loudly instead of producing fast nonsense.
 *   - `--pingpong-only` skips Allreduce (`pympi bench bridge` compares ping-pongs only).
 *   - Output: one JSON record per line on rank 0's stdout, the BenchRecord shape:
 *     {"name":"pingpong"|"allreduce","impl":"c","size_bytes":N,"metric":"latency_us"|"bandwidth_MBps","value":X}
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG 1

static const long PINGPONG_SIZES[] = {8L, 1L << 10, 64L << 10, 1L << 20, 16L << 20};

static long iterations_for(long size)
{
    long n = (1L << 27) / size;
    return n < 10 ? 10 : n > 10000 ? 10000 : n;
}

static long warmup_for(long iterations)
{
    long n = iterations / 10;
    return n < 2 ? 2 : n;
}

static void record(const char *name, long size, const char *metric, double value)
{
    printf("{\"name\":\"%s\",\"impl\":\"c\",\"size_bytes\":%ld,\"metric\":\"%s\",\"value\":%.6g}\n",
           name, size, metric, value);
    fflush(stdout);
}

static void die(const char *what)
{
    fprintf(stderr, "mpi_bench: %s\n", what);
    MPI_Abort(MPI_COMM_WORLD, 1);
}

/* Round trips between ranks 0 and 1: rank 0 sends `out` and receives into `in`; rank 1 echoes. */
static void pingpong_loop(int rank, char *out, char *in, long size, long iterations)
{
    for (long i = 0; i < iterations; i++) {
        if (rank == 0) {
            MPI_Send(out, (int)size, MPI_BYTE, 1, TAG, MPI_COMM_WORLD);
            MPI_Recv(in, (int)size, MPI_BYTE, 1, TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else {
            MPI_Recv(in, (int)size, MPI_BYTE, 0, TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Send(in, (int)size, MPI_BYTE, 0, TAG, MPI_COMM_WORLD);
        }
    }
}

static void bench_pingpong(int rank, long size, int repeats)
{
    char *out = malloc(size), *in = malloc(size);
    if (!out || !in) die("out of memory");
    for (long i = 0; i < size; i++) { out[i] = (char)(i % 251); in[i] = 0; }

    long iterations = iterations_for(size);
    pingpong_loop(rank, out, in, size, warmup_for(iterations));
    double best = 1e300;
    for (int r = 0; r < repeats; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        pingpong_loop(rank, out, in, size, iterations);
        double t = MPI_Wtime() - t0;
        if (t < best) best = t;
    }
    if (rank == 0) {
        if (memcmp(out, in, size) != 0) die("ping-pong: echoed data differs from what was sent");
        double half_rtt = best / iterations / 2.0;
        record("pingpong", size, "latency_us", half_rtt * 1e6);
        if (size >= 1024) record("pingpong", size, "bandwidth_MBps", size / half_rtt / 1e6);
    }
    free(out);
    free(in);
}

static void bench_allreduce(int rank, int nranks, long size, int repeats)
{
    long count = size / (long)sizeof(double);
    double *send = malloc(size), *recv = malloc(size);
    if (!send || !recv) die("out of memory");
    for (long i = 0; i < count; i++) { send[i] = rank + 1; recv[i] = 0; }

    long iterations = iterations_for(size);
    for (long i = 0; i < warmup_for(iterations); i++)
        MPI_Allreduce(send, recv, (int)count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    double best = 1e300;
    for (int r = 0; r < repeats; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        for (long i = 0; i < iterations; i++)
            MPI_Allreduce(send, recv, (int)count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        double t = MPI_Wtime() - t0;
        if (t < best) best = t;
    }
    double expected = nranks * (nranks + 1) / 2.0;
    if (recv[0] != expected || recv[count - 1] != expected) die("allreduce: wrong sum");
    if (rank == 0) record("allreduce", size, "latency_us", best / iterations * 1e6);
    free(send);
    free(recv);
}

int main(int argc, char **argv)
{
    int required = MPI_THREAD_MULTIPLE, repeats = 9, pingpong_only = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--repeats") == 0 && i + 1 < argc) repeats = atoi(argv[++i]);
        else if (strcmp(argv[i], "--thread-level") == 0 && i + 1 < argc && strcmp(argv[i + 1], "single") == 0) { required = MPI_THREAD_SINGLE; i++; }
        else if (strcmp(argv[i], "--thread-level") == 0 && i + 1 < argc && strcmp(argv[i + 1], "multiple") == 0) { required = MPI_THREAD_MULTIPLE; i++; }
        else if (strcmp(argv[i], "--pingpong-only") == 0) pingpong_only = 1;
        else { fprintf(stderr, "usage: mpi_bench [--repeats R] [--thread-level single|multiple] [--pingpong-only]\n"); return 2; }
    }
    int provided, rank, nranks;
    MPI_Init_thread(&argc, &argv, required, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    if (provided < required && rank == 0)
        fprintf(stderr, "mpi_bench: asked for thread level %d, MPI provides only %d\n", required, provided);
    if (nranks != 2) {
        if (rank == 0) fprintf(stderr, "mpi_bench: run on exactly 2 ranks (mpiexec -n 2), not %d\n", nranks);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    if (repeats < 1) die("--repeats must be at least 1");

    for (size_t k = 0; k < sizeof PINGPONG_SIZES / sizeof PINGPONG_SIZES[0]; k++)
        bench_pingpong(rank, PINGPONG_SIZES[k], repeats);
    for (long size = 8; !pingpong_only && size <= (8L << 20); size *= 4)
        bench_allreduce(rank, nranks, size, repeats);

    MPI_Finalize();
    return 0;
}
