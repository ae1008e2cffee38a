import * as $protobuf from "protobufjs";
import Long = require("long");
export namespace pvctrl {

    interface IEvent {
        seq?: (number|Long|null);
        time?: (number|Long|null);
        epoch?: (pvctrl.IEpoch|null);
        reset?: (pvctrl.IReset|null);
        overflow?: (pvctrl.IOverflow|null);
        container?: (pvctrl.IContainerStatus|null);
        group?: (pvctrl.IGroupStatus|null);
        revision?: (pvctrl.IRevisionProgress|null);
        meta?: (pvctrl.IMetaChange|null);
        daemon?: (pvctrl.IDaemonChange|null);
        signal?: (pvctrl.ISignalReceived|null);
        object?: (pvctrl.IObjectChange|null);
        command?: (pvctrl.ICommandChange|null);
        driver?: (pvctrl.IDriverChange|null);
        xconnect?: (pvctrl.IXconnectChange|null);
    }

    class Event implements IEvent {
        constructor(properties?: pvctrl.IEvent);
        public seq: (number|Long);
        public time: (number|Long);
        public epoch?: (pvctrl.IEpoch|null);
        public reset?: (pvctrl.IReset|null);
        public overflow?: (pvctrl.IOverflow|null);
        public container?: (pvctrl.IContainerStatus|null);
        public group?: (pvctrl.IGroupStatus|null);
        public revision?: (pvctrl.IRevisionProgress|null);
        public meta?: (pvctrl.IMetaChange|null);
        public daemon?: (pvctrl.IDaemonChange|null);
        public signal?: (pvctrl.ISignalReceived|null);
        public object?: (pvctrl.IObjectChange|null);
        public command?: (pvctrl.ICommandChange|null);
        public driver?: (pvctrl.IDriverChange|null);
        public xconnect?: (pvctrl.IXconnectChange|null);
        public type?: ("epoch"|"reset"|"overflow"|"container"|"group"|"revision"|"meta"|"daemon"|"signal"|"object"|"command"|"driver"|"xconnect");
        public static create(properties?: pvctrl.IEvent): pvctrl.Event;
        public static encode(message: pvctrl.IEvent, writer?: $protobuf.Writer): $protobuf.Writer;
        public static encodeDelimited(message: pvctrl.IEvent, writer?: $protobuf.Writer): $protobuf.Writer;
        public static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): pvctrl.Event;
        public static decodeDelimited(reader: ($protobuf.Reader|Uint8Array)): pvctrl.Event;
        public static fromObject(object: { [k: string]: any }): pvctrl.Event;
        public static toObject(message: pvctrl.Event, options?: $protobuf.IConversionOptions): { [k: string]: any };
        public toJSON(): { [k: string]: any };
    }

    interface IEpoch {
        id?: (string|null);
    }

    class Epoch implements IEpoch {
        constructor(properties?: pvctrl.IEpoch);
        public id: string;
        public static create(properties?: pvctrl.IEpoch): pvctrl.Epoch;
        public static encode(message: pvctrl.IEpoch, writer?: $protobuf.Writer): $protobuf.Writer;
        public static encodeDelimited(message: pvctrl.IEpoch, writer?: $protobuf.Writer): $protobuf.Writer;
        public static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): pvctrl.Epoch;
        public static decodeDelimited(reader: ($protobuf.Reader|Uint8Array)): pvctrl.Epoch;
        public static fromObject(object: { [k: string]: any }): pvctrl.Epoch;
        public static toObject(message: pvctrl.Epoch, options?: $protobuf.IConversionOptions): { [k: string]: any };
        public toJSON(): { [k: string]: any };
    }

    interface IReset {
        epoch?: (string|null);
        since?: (number|Long|null);
        oldest?: (number|Long|null);
    }

    class Reset implements IReset {
        constructor(properties?: pvctrl.IReset);
        public epoch: string;
        public since: (number|Long);
        public oldest: (number|Long);
        public static create(properties?: pvctrl.IReset): pvctrl.Reset;
        public static encode(message: pvctrl.IReset, writer?: $protobuf.Writer): $protobuf.Writer;
        public static encodeDelimited(message: pvctrl.IReset, writer?: $protobuf.Writer): $protobuf.Writer;
        public static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): pvctrl.Reset;
        public static decodeDelimited(reader: ($protobuf.Reader|Uint8Array)): pvctrl.Reset;
        public static fromObject(object: { [k: string]: any }): pvctrl.Reset;
        public static toObject(message: pvctrl.Reset, options?: $protobuf.IConversionOptions): { [k: string]: any };
        public toJSON(): { [k: string]: any };
    }

    interface IOverflow {
        limit?: (number|null);
    }

    class Overflow implements IOverflow {
        constructor(properties?: pvctrl.IOverflow);
        public limit: number;
        public static create(properties?: pvctrl.IOverflow): pvctrl.Overflow;
        public static encode(message: pvctrl.IOverflow, writer?: $protobuf.Writer): $protobuf.Writer;
        public static encodeDelimited(message: pvctrl.IOverflow, writer?: $protobuf.Writer): $protobuf.Writer;
        public static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): pvctrl.Overflow;
        public static decodeDelimited(reader: ($protobuf.Reader|Uint8Array)): pvctrl.Overflow;
        public static fromObject(object: { [k: string]: any }): pvctrl.Overflow;
        public static toObject(message: pvctrl.Overflow, options?: $protobuf.IConversionOptions): { [k: string]: any };
        public toJSON(): { [k: string]: any };
    }

    interface IContainerStatus {
        name?: (string|null);
        from?: (string|null);
        to?: (string|null);
        reason?: (string|null);
    }

    class ContainerStatus implements IContainerStatus {
        constructor(properties?: pvctrl.IContainerStatus);
        public name: string;
        public from: string;
        public to: string;
        public reason: string;
        public static create(properties?: pvctrl.IContainerStatus): pvctrl.ContainerStatus;
        public static encode(message: pvctrl.IContainerStatus, writer?: $protobuf.Writer): $protobuf.Writer;
        public static encodeDelimited(message: pvctrl.IContainerStatus, writer?: $protobuf.Writer): $protobuf.Writer;
        public static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): pvctrl.ContainerStatus;
        public static decodeDelimited(reader: ($protobuf.Reader|Uint8Array)): pvctrl.ContainerStatus;
        public static fromObject(object: { [k: string]: any }): pvctrl.ContainerStatus;
        public static toObject(message: pvctrl.ContainerStatus, options?: $protobuf.IConversionOptions): { [k: string]: any };
        public toJSON(): { [k: string]: any };
    }

    interface IGroupStatus {
        name?: (string|null);
        from?: (string|null);
        to?: (string|null);
    }

    class GroupStatus implements IGroupStatus {
        constructor(properties?: pvctrl.IGroupStatus);
        public name: string;
        public from: string;
        public to: string;
        public static create(properties?: pvctrl.IGroupStatus): pvctrl.GroupStatus;
        public static encode(message: pvctrl.IGroupStatus, writer?: $protobuf.Writer): $protobuf.Writer;
        public static encodeDelimited(message: pvctrl.IGroupStatus, writer?: $protobuf.Writer): $protobuf.Writer;
        public static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): pvctrl.GroupStatus;
        public static decodeDelimited(reader: ($protobuf.Reader|Uint8Array)): pvctrl.GroupStatus;
        public static fromObject(object: { [k: string]: any }): pvctrl.GroupStatus;
        public static toObject(message: pvctrl.GroupStatus, options?: $protobuf.IConversionOptions): { [k: string]: any };
        public toJSON(): { [k: string]: any };
    }

    interface IProgress {
        status?: (string|null);
        statusMsg?: (string|null);
        progress?: (number|null);
        retries?: (number|null);
        extra?: (string|null);
    }

    class Progress implements IProgress {
        constructor(properties?: pvctrl.IProgress);
        public status: string;
        public statusMsg: string;
        public progress: number;
        public retries: number;
        public extra: string;
        public static create(properties?: pvctrl.IProgress): pvctrl.Progress;
        public static encode(message: pvctrl.IProgress, writer?: $protobuf.Writer): $protobuf.Writer;
        public static encodeDelimited(message: pvctrl.IProgress, writer?: $protobuf.Writer): $protobuf.Writer;
        public static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): pvctrl.Progress;
        public static decodeDelimited(reader: ($protobuf.Reader|Uint8Array)): pvctrl.Progress;
        public static fromObject(object: { [k: string]: any }): pvctrl.Progress;
        public static toObject(message: pvctrl.Progress, options?: $protobuf.IConversionOptions): { [k: string]: any };
        public toJSON(): { [k: string]: any };
    }

    interface IRevisionProgress {
        revision?: (string|null);
        progress?: (pvctrl.IProgress|null);
    }

    class RevisionProgress implements IRevisionProgress {
        constructor(properties?: pvctrl.IRevisionProgress);
        public revision: string;
        public progress?: (pvctrl.IProgress|null);
        public static create(properties?: pvctrl.IRevisionProgress): pvctrl.RevisionProgress;
        public static encode(message: pvctrl.IRevisionProgress, writer?: $protobuf.Writer): $protobuf.Writer;
        public static encodeDelimited(message: pvctrl.IRevisionProgress, writer?: $protobuf.Writer): $protobuf.Writer;
        public static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): pvctrl.RevisionProgress;
        public static decodeDelimited(reader: ($protobuf.Reader|Uint8Array)): pvctrl.RevisionProgress;
        public static fromObject(object: { [k: string]: any }): pvctrl.RevisionProgress;
        public static toObject(message: pvctrl.RevisionProgress, options?: $protobuf.IConversionOptions): { [k: string]: any };
        public toJSON(): { [k: string]: any };
    }

    interface IMetaChange {
        store?: (string|null);
        key?: (string|null);
        action?: (string|null);
        value?: (string|null);
        size?: (number|null);
    }

    class MetaChange implements IMetaChange {
        constructor(properties?: pvctrl.IMetaChange);
        public store: string;
        public key: string;
        public action: string;
        public value?: (string|null);
        public size: number;
        public static create(properties?: pvctrl.IMetaChange): pvctrl.MetaChange;
        public static encode(message: pvctrl.IMetaChange, writer?: $protobuf.Writer): $protobuf.Writer;
        public static encodeDelimited(message: pvctrl.IMetaChange, writer?: $protobuf.Writer): $protobuf.Writer;
        public static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): pvctrl.MetaChange;
        public static decodeDelimited(reader: ($protobuf.Reader|Uint8Array)): pvctrl.MetaChange;
        public static fromObject(object: { [k: string]: any }): pvctrl.MetaChange;
        public static toObject(message: pvctrl.MetaChange, options?: $protobuf.IConversionOptions): { [k: string]: any };
        public toJSON(): { [k: string]: any };
    }

    interface IDaemonChange {
        name?: (string|null);
        action?: (string|null);
        exitCode?: (number|null);
        signal?: (string|null);
    }

    class DaemonChange implements IDaemonChange {
        constructor(properties?: pvctrl.IDaemonChange);
        public name: string;
        public action: string;
        public exitCode?: (number|null);
        public signal?: (string|null);
        public static create(properties?: pvctrl.IDaemonChange): pvctrl.DaemonChange;
        public static encode(message: pvctrl.IDaemonChange, writer?: $protobuf.Writer): $protobuf.Writer;
        public static encodeDelimited(message: pvctrl.IDaemonChange, writer?: $protobuf.Writer): $protobuf.Writer;
        public static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): pvctrl.DaemonChange;
        public static decodeDelimited(reader: ($protobuf.Reader|Uint8Array)): pvctrl.DaemonChange;
        public static fromObject(object: { [k: string]: any }): pvctrl.DaemonChange;
        public static toObject(message: pvctrl.DaemonChange, options?: $protobuf.IConversionOptions): { [k: string]: any };
        public toJSON(): { [k: string]: any };
    }

    interface ISignalReceived {
        container?: (string|null);
        signal?: (string|null);
    }

    class SignalReceived implements ISignalReceived {
        constructor(properties?: pvctrl.ISignalReceived);
        public container: string;
        public signal: string;
        public static create(properties?: pvctrl.ISignalReceived): pvctrl.SignalReceived;
        public static encode(message: pvctrl.ISignalReceived, writer?: $protobuf.Writer): $protobuf.Writer;
        public static encodeDelimited(message: pvctrl.ISignalReceived, writer?: $protobuf.Writer): $protobuf.Writer;
        public static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): pvctrl.SignalReceived;
        public static decodeDelimited(reader: ($protobuf.Reader|Uint8Array)): pvctrl.SignalReceived;
        public static fromObject(object: { [k: string]: any }): pvctrl.SignalReceived;
        public static toObject(message: pvctrl.SignalReceived, options?: $protobuf.IConversionOptions): { [k: string]: any };
        public toJSON(): { [k: string]: any };
    }

    interface IObjectChange {
        sha?: (string|null);
        action?: (string|null);
        size?: (number|Long|null);
    }

    class ObjectChange implements IObjectChange {
        constructor(properties?: pvctrl.IObjectChange);
        public sha: string;
        public action: string;
        public size: (number|Long);
        public static create(properties?: pvctrl.IObjectChange): pvctrl.ObjectChange;
        public static encode(message: pvctrl.IObjectChange, writer?: $protobuf.Writer): $protobuf.Writer;
        public static encodeDelimited(message: pvctrl.IObjectChange, writer?: $protobuf.Writer): $protobuf.Writer;
        public static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): pvctrl.ObjectChange;
        public static decodeDelimited(reader: ($protobuf.Reader|Uint8Array)): pvctrl.ObjectChange;
        public static fromObject(object: { [k: string]: any }): pvctrl.ObjectChange;
        public static toObject(message: pvctrl.ObjectChange, options?: $protobuf.IConversionOptions): { [k: string]: any };
        public toJSON(): { [k: string]: any };
    }

    interface ICommandChange {
        op?: (string|null);
        action?: (string|null);
        ok?: (boolean|null);
        error?: (string|null);
    }

    class CommandChange implements ICommandChange {
        constructor(properties?: pvctrl.ICommandChange);
        public op: string;
        public action: string;
        public ok: boolean;
        public error: string;
        public static create(properties?: pvctrl.ICommandChange): pvctrl.CommandChange;
        public static encode(message: pvctrl.ICommandChange, writer?: $protobuf.Writer): $protobuf.Writer;
        public static encodeDelimited(message: pvctrl.ICommandChange, writer?: $protobuf.Writer): $protobuf.Writer;
        public static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): pvctrl.CommandChange;
        public static decodeDelimited(reader: ($protobuf.Reader|Uint8Array)): pvctrl.CommandChange;
        public static fromObject(object: { [k: string]: any }): pvctrl.CommandChange;
        public static toObject(message: pvctrl.CommandChange, options?: $protobuf.IConversionOptions): { [k: string]: any };
        public toJSON(): { [k: string]: any };
    }

    interface IDriverChange {
        alias?: (string|null);
        action?: (string|null);
        ok?: (boolean|null);
    }

    class DriverChange implements IDriverChange {
        constructor(properties?: pvctrl.IDriverChange);
        public alias: string;
        public action: string;
        public ok: boolean;
        public static create(properties?: pvctrl.IDriverChange): pvctrl.DriverChange;
        public static encode(message: pvctrl.IDriverChange, writer?: $protobuf.Writer): $protobuf.Writer;
        public static encodeDelimited(message: pvctrl.IDriverChange, writer?: $protobuf.Writer): $protobuf.Writer;
        public static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): pvctrl.DriverChange;
        public static decodeDelimited(reader: ($protobuf.Reader|Uint8Array)): pvctrl.DriverChange;
        public static fromObject(object: { [k: string]: any }): pvctrl.DriverChange;
        public static toObject(message: pvctrl.DriverChange, options?: $protobuf.IConversionOptions): { [k: string]: any };
        public toJSON(): { [k: string]: any };
    }

    interface IXconnectChange {
        cause?: (string|null);
    }

    class XconnectChange implements IXconnectChange {
        constructor(properties?: pvctrl.IXconnectChange);
        public cause: string;
        public static create(properties?: pvctrl.IXconnectChange): pvctrl.XconnectChange;
        public static encode(message: pvctrl.IXconnectChange, writer?: $protobuf.Writer): $protobuf.Writer;
        public static encodeDelimited(message: pvctrl.IXconnectChange, writer?: $protobuf.Writer): $protobuf.Writer;
        public static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): pvctrl.XconnectChange;
        public static decodeDelimited(reader: ($protobuf.Reader|Uint8Array)): pvctrl.XconnectChange;
        public static fromObject(object: { [k: string]: any }): pvctrl.XconnectChange;
        public static toObject(message: pvctrl.XconnectChange, options?: $protobuf.IConversionOptions): { [k: string]: any };
        public toJSON(): { [k: string]: any };
    }
}
