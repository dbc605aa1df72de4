// Package eks is the EksNlb component: on an existing EKS cluster it grants the AWS Load
// Balancer Controller its IAM permissions (Pulumi AWS), installs the controller's CRDs and then
// the controller (Helm, NLB gateway feature gate on), and creates the NLB GatewayClass, the
// Gateway with its LoadBalancerConfiguration (ACM certificates), and for every target a route
// and a TargetGroupConfiguration whose protocol makes the NLB speak TLS to the pods.
//
// The NLB encrypts the hop to the pods but never validates their certificates; every target's
// status says so.
package eks

import (
	"fmt"

	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/components/certificate"
	"github.com/upstream-tls/upstream-tls/components/install"
	"github.com/upstream-tls/upstream-tls/components/kubeobject"
	"github.com/upstream-tls/upstream-tls/components/plan"
	gwv1 "github.com/upstream-tls/upstream-tls/crds/gateway/v1"
)

// Token is the component's type.
const Token = "upstream-tls:index:EksNlb"

// Args are the component inputs.
type Args struct {
	// EKS is the planned EKS path (plan.Build(...).EKS).
	EKS *plan.EKSPlan
	// GatewayAPICRDs, when set, is installed first (the component owns the Gateway API CRDs).
	// Leave it nil when the CRDs are installed elsewhere, for example by the Envoy Gateway
	// component of the same UpstreamTls, and pass that resource in DependsOn instead.
	GatewayAPICRDs *plan.CRDBundle
	// DependsOn are resources the CRDs, the controller and the objects wait for (for example
	// the Gateway API CRDs and the namespaces).
	DependsOn []pulumi.Resource
}

// EksNlb is the provisioned EKS path.
type EksNlb struct {
	pulumi.ResourceState

	// RoleArn is the controller's IAM role.
	RoleArn pulumi.StringOutput `pulumi:"roleArn"`
	// PolicyArn is the IAM policy attached to the role.
	PolicyArn pulumi.StringOutput `pulumi:"policyArn"`
	// GatewayAddress is the NLB's DNS name from the Gateway's status; empty until LBC has
	// provisioned the NLB (always empty in render mode).
	GatewayAddress pulumi.StringOutput `pulumi:"gatewayAddress"`
	// Targets report, per Service, the listener, the target group protocol and what the hop
	// from the NLB to the pods guarantees.
	Targets pulumi.MapArrayOutput `pulumi:"targets"`

	// controller is the controller's Helm chart; nil when installed elsewhere.
	controller pulumi.Resource
}

// Controller returns the controller's Helm chart, or nil when the controller is installed
// elsewhere. Anything that creates Services in the cluster should wait for it: the chart
// registers a Service mutating webhook with failurePolicy Fail, so until the controller serves
// it, every Service create fails.
func (c *EksNlb) Controller() pulumi.Resource { return c.controller }

// New registers the component and its children. The plan must come from plan.Build, which has
// already validated every input.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*EksNlb, error) {
	if args == nil || args.EKS == nil || args.EKS.GatewayClass == nil {
		return nil, fmt.Errorf("eks %q: args.EKS must come from plan.Build with eks.enabled", name)
	}
	ep := args.EKS
	c := &EksNlb{}
	if err := ctx.RegisterComponentResource(Token, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	wrap := func(err error) error { return fmt.Errorf("eks %q: %w", name, err) }

	// IAM: the role the controller assumes, its policy, and the binding to the service account.
	roleArn := pulumi.String(ep.IAM.RoleARN).ToStringOutput()
	policyArn := pulumi.String(ep.IAM.PolicyARN).ToStringOutput()
	var identity []pulumi.Resource
	if ep.IAM.Create {
		var err error
		if roleArn, policyArn, identity, err = grant(ctx, name, ep, parent); err != nil {
			return nil, wrap(err)
		}
	}

	// CRDs before the controller: it probes for the Gateway API and its own CRDs at start.
	deps := append([]pulumi.Resource(nil), args.DependsOn...)
	if args.GatewayAPICRDs != nil {
		crds, err := install.CRDs(ctx, name+"-gateway-api-crds", args.GatewayAPICRDs, parent, pulumi.DependsOn(deps))
		if err != nil {
			return nil, wrap(err)
		}
		deps = append(deps, crds)
	}
	if ep.CRDs != nil {
		crds, err := install.CRDs(ctx, name+"-lbc-crds", ep.CRDs, parent, pulumi.DependsOn(deps))
		if err != nil {
			return nil, wrap(err)
		}
		deps = append(deps, crds)
	}

	if ep.Release != nil {
		certs, err := certificate.NewSet(ctx, ep.Certificates, parent)
		if err != nil {
			return nil, wrap(err)
		}
		values, err := kubeobject.Input(ep.Release.Values, certs, map[string]pulumi.Input{plan.ComputedRoleARN: roleArn})
		if err != nil {
			return nil, wrap(fmt.Errorf("chart values: %w", err))
		}
		chart, err := install.Chart(ctx, name+"-"+ep.Release.Name, *ep.Release, values.(pulumi.Map), parent,
			pulumi.DependsOn(append(append([]pulumi.Resource(nil), deps...), identity...)))
		if err != nil {
			return nil, wrap(err)
		}
		deps = append(deps, chart)
		c.controller = chart
	}

	// Objects after the controller: on destroy they go first, while the controller still runs
	// to delete the NLB and target groups and to lift its finalizers (deleted after the
	// controller, the Gateway would wait on its finalizer forever and the NLB would be orphaned).
	objOpts := []pulumi.ResourceOption{parent, pulumi.DependsOn(deps)}
	if _, err := kubeobject.Register(ctx, ep.GatewayClass, nil, objOpts...); err != nil {
		return nil, wrap(err)
	}
	address := pulumi.String("").ToStringOutput()
	for _, o := range ep.Objects {
		res, err := kubeobject.Register(ctx, o, nil, objOpts...)
		if err != nil {
			return nil, wrap(err)
		}
		if gw, ok := res.(*gwv1.Gateway); ok {
			address = gw.Status.ApplyT(func(s *gwv1.GatewayStatus) string {
				if s == nil || len(s.Addresses) == 0 {
					return ""
				}
				return s.Addresses[0].Value
			}).(pulumi.StringOutput)
		}
	}
	var targets pulumi.MapArray
	for _, t := range ep.Targets {
		var keys []string
		for _, o := range t.Objects {
			if _, err := kubeobject.Register(ctx, o, nil, objOpts...); err != nil {
				return nil, wrap(fmt.Errorf("target %q: %w", t.Name, err))
			}
			keys = append(keys, plan.ObjectKey(o))
		}
		targets = append(targets, TargetStatus(t, keys))
	}

	c.RoleArn = roleArn
	c.PolicyArn = policyArn
	c.GatewayAddress = address
	c.Targets = targets.ToMapArrayOutput()
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"roleArn": c.RoleArn, "policyArn": c.PolicyArn, "gatewayAddress": c.GatewayAddress, "targets": c.Targets,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// grant creates the controller's IAM role (trusting Pod Identity or the cluster's OIDC
// provider), its policy unless an existing one is given, the attachment, and in mode
// podIdentity the association with the controller's service account.
func grant(ctx *pulumi.Context, name string, ep *plan.EKSPlan, parent pulumi.ResourceOption) (roleArn, policyArn pulumi.StringOutput, identity []pulumi.Resource, err error) {
	role, err := iam.NewRole(ctx, name+"-controller", &iam.RoleArgs{
		Name:             pulumi.String(ep.IAM.RoleName),
		AssumeRolePolicy: pulumi.String(ep.IAM.TrustPolicy),
		Description:      pulumi.String("AWS Load Balancer Controller of EKS cluster " + ep.ClusterName + " (upstream-tls)"),
	}, parent)
	if err != nil {
		return roleArn, policyArn, nil, err
	}
	policyArn = pulumi.String(ep.IAM.PolicyARN).ToStringOutput()
	if ep.IAM.PolicyARN == "" {
		policy, err := iam.NewPolicy(ctx, name+"-controller", &iam.PolicyArgs{
			Name:        pulumi.String(ep.IAM.PolicyName),
			Policy:      pulumi.String(ep.IAM.PolicyDocument),
			Description: pulumi.String("Permissions the AWS Load Balancer Controller documents (upstream-tls)"),
		}, parent)
		if err != nil {
			return roleArn, policyArn, nil, err
		}
		policyArn = policy.Arn
	}
	attachment, err := iam.NewRolePolicyAttachment(ctx, name+"-controller", &iam.RolePolicyAttachmentArgs{
		Role:      role.Name,
		PolicyArn: policyArn,
	}, parent)
	if err != nil {
		return roleArn, policyArn, nil, err
	}
	identity = []pulumi.Resource{attachment}
	if ep.IAM.Mode == plan.IdentityPodIdentity {
		assoc, err := awseks.NewPodIdentityAssociation(ctx, name+"-controller", &awseks.PodIdentityAssociationArgs{
			ClusterName:    pulumi.String(ep.ClusterName),
			Namespace:      pulumi.String(ep.IAM.Namespace),
			ServiceAccount: pulumi.String(ep.IAM.ServiceAccount),
			RoleArn:        role.Arn,
		}, parent)
		if err != nil {
			return roleArn, policyArn, nil, err
		}
		identity = append(identity, assoc)
	}
	return role.Arn, policyArn, identity, nil
}

// TargetStatus is the output reported for one target.
func TargetStatus(t plan.NLBTarget, objects []string) pulumi.Map {
	return pulumi.Map{
		"name":                pulumi.String(t.Name),
		"service":             pulumi.String(t.Namespace + "/" + t.Service),
		"listener":            pulumi.String(t.Listener),
		"listenerProtocol":    pulumi.String(t.ListenerProtocol),
		"targetGroupProtocol": pulumi.String(t.TargetGroupProtocol),
		"verified":            pulumi.Bool(false),
		"statement":           pulumi.String(t.Statement),
		"objects":             pulumi.ToStringArray(objects),
	}
}
