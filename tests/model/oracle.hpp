/* oracle.hpp: the check every Relacy model makes of the queue it drives
 * (deque_relacy.cpp, split_relacy.cpp, ctx_relacy.cpp): each item pushed
 * is handed out exactly once, and whoever runs it sees the payload written
 * before its push.
 *
 * The payload is an rl::var, so a read not ordered after the write is also
 * reported by Relacy as a data race: that is how a weakened fence shows.
 * The run counts live outside the model: Relacy runs its threads as fibers
 * on one OS thread, so plain ints are exact and add no synchronisation.
 * Include after <relacy/relacy.hpp> and the runtime source under test. */
#ifndef FG_MODEL_ORACLE_HPP
#define FG_MODEL_ORACLE_HPP

#define PAYLOAD(i) (1000 + (i))

template <int N>
struct model_oracle {
    /* An item embedded first in a frame, as fg_join's frames are (job.h). */
    struct frame {
        fg__job job;
        rl::var<int> payload;
    };
    frame frames[N];
    int runs[N];

    void reset()
    {
        for (int i = 0; i < N; i++) {
            frames[i].job.execute = NULL;
            frames[i].job.next = NULL;
            runs[i] = 0;
        }
    }

    /* Write item i's payload; the caller pushes the job returned. */
    fg__job *publish(int i)
    {
        frames[i].payload($) = PAYLOAD(i);
        return &frames[i].job;
    }

    /* Item i was handed out and runs: the first time, with its payload
     * intact.  Running writes `result` into its frame. */
    void consume(int i, int result)
    {
        RL_ASSERT(i >= 0 && i < N && "an item that was never pushed");
        RL_ASSERT(runs[i] == 0 && "item handed out twice");
        runs[i]++;
        int v = frames[i].payload($);
        RL_ASSERT(v == PAYLOAD(i) && "payload not intact");
        frames[i].payload($) = result;
    }

    void consume(fg__job *job)
    {
        RL_ASSERT(job != NULL);
        frame *f = FG__CONTAINER_OF(job, frame, job);
        consume((int)(f - frames), -1);
    }

    /* What item i's frame holds now (its result once it ran). */
    int payload(int i)
    {
        return frames[i].payload($);
    }

    /* After every thread ended: nothing lost, nothing run twice. */
    void expect_each_once()
    {
        for (int i = 0; i < N; i++)
            RL_ASSERT(runs[i] == 1 && "item lost");
    }
};

#endif
