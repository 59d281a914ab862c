/*
 * The main loops: the master's, a worker's, a module process's, and the
 * single-process loop of "master_process off".
 */

#ifndef EG_PROCESS_CYCLE_H_INCLUDED
#define EG_PROCESS_CYCLE_H_INCLUDED


#define EG_PROCESS_SINGLE     0
#define EG_PROCESS_MASTER     1
#define EG_PROCESS_SIGNALLER  2
#define EG_PROCESS_WORKER     3
#define EG_PROCESS_HELPER     4     /* a module process */


void eg_master_process_cycle(eg_cycle_t *cycle);
void eg_single_process_cycle(eg_cycle_t *cycle);

/*
 * For module processes (cluster process): the same set-up a worker gets
 * (user, signals, init_process of every module, signal pipe) and then
 * the event loop until told to quit.  The module's proc calls this after
 * its own preparation, or runs its own loop on top of the pieces.
 */
void eg_module_process_init(eg_cycle_t *cycle, const char *title);
void eg_module_process_loop(eg_cycle_t *cycle);
EG_NORETURN void eg_process_exit(eg_cycle_t *cycle, int status);
void eg_process_exit_modules(eg_cycle_t *cycle);


extern eg_uint_t              eg_process;
extern eg_uint_t              eg_worker;
extern eg_uint_t              eg_inherited;
extern eg_uint_t              eg_daemonized;
extern eg_uint_t              eg_exiting;

extern volatile sig_atomic_t  eg_reap;
extern volatile sig_atomic_t  eg_sigio;
extern volatile sig_atomic_t  eg_sigalrm;
extern volatile sig_atomic_t  eg_quit;
extern volatile sig_atomic_t  eg_terminate;
extern volatile sig_atomic_t  eg_noaccept;
extern volatile sig_atomic_t  eg_reconfigure;
extern volatile sig_atomic_t  eg_reopen;
extern volatile sig_atomic_t  eg_change_binary;
extern volatile sig_atomic_t  eg_handover;

extern pid_t                  eg_new_binary;
extern int                    eg_signal_pipe[2];

#endif /* EG_PROCESS_CYCLE_H_INCLUDED */
